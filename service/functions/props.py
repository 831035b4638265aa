"""The sub-resource props of an fc3 resource, as request bodies validate them.

Names and shapes are fc3's (an s.yaml resource's ``props`` maps 1:1), with the
checks FC would make later with a less exact message. ``triggerConfig`` is an
object here (fc3 writes one; FC's wire form is a JSON string).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TriggerType = Literal[
    "http", "timer", "oss", "log", "mns_topic", "cdn_events", "tablestore", "eventbridge"
]
TRIGGER_TYPES: tuple[str, ...] = get_args(TriggerType)

Qualifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="LATEST, a version id or an alias name; default LATEST.",
    ),
]
HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}

# triggerConfig fields each trigger type needs (fc3's trigger docs).
REQUIRED_CONFIG: dict[str, tuple[str, ...]] = {
    "http": ("methods",),
    "timer": ("cronExpression",),
    "oss": ("events", "filter"),
    "log": ("sourceConfig", "logConfig", "jobConfig"),
    "mns_topic": ("notifyContentFormat", "notifyStrategy"),
    "cdn_events": ("eventName", "eventVersion", "notes", "filter"),
    "tablestore": (),
    "eventbridge": ("eventRuleFilterPattern",),
}
# The event source a trigger type names in sourceArn.
NEEDS_SOURCE_ARN = {"oss", "log", "mns_topic", "cdn_events", "tablestore"}


class _Props(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TriggerProps(_Props):
    """One trigger; its identity is ``triggerName`` (plans and merges pair triggers by it)."""

    triggerName: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    triggerType: TriggerType
    triggerConfig: dict[str, Any] = Field(
        default_factory=dict, description="Per type, as fc3 writes it (an object)."
    )
    qualifier: Qualifier | None = None
    sourceArn: str | None = Field(None, max_length=512, description="The event source.")
    invocationRole: str | None = Field(
        None, max_length=512, description="RAM role ARN the event source assumes."
    )
    description: str | None = Field(None, max_length=256)

    @model_validator(mode="after")
    def _per_type(self) -> TriggerProps:
        missing = [k for k in REQUIRED_CONFIG[self.triggerType] if k not in self.triggerConfig]
        if missing:
            raise ValueError(
                f"trigger '{self.triggerName}': a {self.triggerType} trigger's triggerConfig "
                f"needs {', '.join(missing)}"
            )
        if self.triggerType in NEEDS_SOURCE_ARN and not self.sourceArn:
            raise ValueError(
                f"trigger '{self.triggerName}': a {self.triggerType} trigger needs sourceArn"
            )
        if self.triggerType == "http":
            _check_http(self.triggerName, self.triggerConfig)
        return self


def _check_http(name: str, config: dict[str, Any]) -> None:
    methods = config.get("methods")
    if not isinstance(methods, list) or not methods:
        raise ValueError(f"trigger '{name}': methods must be a non-empty list")
    unknown = sorted({str(m).upper() for m in methods} - HTTP_METHODS)
    if unknown:
        raise ValueError(f"trigger '{name}': unknown HTTP methods {', '.join(unknown)}")
    auth = config.get("authType", "function")
    if auth not in ("anonymous", "function", "jwt"):
        raise ValueError(f"trigger '{name}': authType must be anonymous, function or jwt")
    auth_config = config.get("authConfig") or {}
    if (
        isinstance(auth_config, dict)
        and auth_config.get("whitelist")
        and auth_config.get("blacklist")
    ):
        raise ValueError(f"trigger '{name}': authConfig takes a whitelist or a blacklist, not both")


class Destination(_Props):
    destination: str = Field(min_length=1, max_length=512)


class DestinationConfig(_Props):
    onSuccess: Destination | None = None
    onFailure: Destination | None = None


class AsyncInvokeConfigProps(_Props):
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int | None = Field(None, ge=1, le=2592000)
    maxAsyncRetryAttempts: int | None = Field(None, ge=0, le=8)
    asyncTask: bool | None = None
    qualifier: Qualifier | None = None


class ProvisionConfigProps(_Props):
    defaultTarget: int | None = Field(None, ge=0, le=10000)
    target: int | None = Field(None, ge=0, le=10000, description="fc3's name for defaultTarget.")
    alwaysAllocateCPU: bool | None = None
    alwaysAllocateGPU: bool | None = None
    scheduledActions: list[dict[str, Any]] | None = None
    targetTrackingPolicies: list[dict[str, Any]] | None = None
    mode: Literal["sync", "async", "drain"] | None = Field(
        None, description="How fc3's CLI waits for the instances; not configuration (ignored)."
    )
    qualifier: Qualifier | None = None


class ConcurrencyConfigProps(_Props):
    reservedConcurrency: int = Field(ge=0, le=100000)


class RewriteRule(_Props):
    match: str = Field(min_length=1, max_length=1024)
    replacement: str = Field(max_length=1024)


class RewriteConfig(_Props):
    equalRules: list[RewriteRule] | None = None
    regexRules: list[RewriteRule] | None = None
    wildcardRules: list[RewriteRule] | None = None


class RouteProps(_Props):
    path: str = Field(min_length=1, max_length=2048, pattern=r"^/")
    methods: list[str] | None = None
    qualifier: Qualifier | None = None
    rewriteConfig: RewriteConfig | None = None

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods: list[str] | None) -> list[str] | None:
        unknown = sorted({m.upper() for m in methods or []} - HTTP_METHODS)
        if unknown:
            raise ValueError(f"unknown HTTP methods {', '.join(unknown)}")
        return methods


class CustomDomainProps(_Props):
    domainName: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9*][A-Za-z0-9.*-]*$",
        description="The domain; fc3's `auto` (a generated test domain) is not supported: "
        "name the domain.",
    )
    protocol: Literal["HTTP", "HTTPS", "HTTP,HTTPS"] | None = None
    certConfig: dict[str, Any] | None = None
    tlsConfig: dict[str, Any] | None = None
    authConfig: dict[str, Any] | None = None
    wafConfig: dict[str, Any] | None = None
    route: RouteProps

    @field_validator("domainName")
    @classmethod
    def _named(cls, name: str) -> str:
        if name == "auto":
            raise ValueError(
                "`auto` (a domain Function Compute generates for tests) is not supported: "
                "name the domain"
            )
        return name.lower()


def unique_trigger_names(triggers: list[TriggerProps] | None) -> list[TriggerProps] | None:
    seen: set[str] = set()
    for t in triggers or []:
        if t.triggerName in seen:
            raise ValueError(f"trigger name '{t.triggerName}' is given more than once")
        seen.add(t.triggerName)
    return triggers
