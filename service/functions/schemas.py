from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.functions import specs
from service.functions.paths import FUNCTION_NAME_DESCRIPTION
from service.functions.props import (
    AsyncInvokeConfigProps,
    ConcurrencyConfigProps,
    CustomDomainProps,
    ProvisionConfigProps,
    TriggerProps,
    unique_trigger_names,
)
from service.functions.state import props_of
from service.kit.names import fc_name
from service.models.function import DriftStatus
from service.models.revision import RevisionSource

FunctionName = Annotated[str, fc_name(Field, FUNCTION_NAME_DESCRIPTION)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of a code package.")]

_ABSENT = object()

# FC: "the total size of environment variables cannot exceed 4 KB".
ENV_LIMIT_BYTES = 4096


class FunctionConfig(BaseModel):
    """The whole function as an fc3 resource's `props` (FC's wire names, as s.yaml writes
    them): the function's config plus its triggers, async-invoke, provision and
    concurrency configs and its custom-domain route.

    It is the full desired state, not a patch: what is left out is FC's default
    (or, for a sub-resource, deleted). Code is not part of it: send `code_sha256`
    of an uploaded code package instead.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    functionName: FunctionName | None = None
    runtime: str | None = Field(None, min_length=1, max_length=64)
    handler: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = Field(None, max_length=256)
    cpu: float | None = Field(None, ge=specs.CPU_MIN, le=specs.CPU_MAX)
    memorySize: int | None = Field(None, ge=specs.MEMORY_MIN, le=specs.MEMORY_MAX)
    diskSize: Literal[512, 10240] | None = None
    timeout: int | None = Field(None, ge=1, le=86400)
    instanceConcurrency: int | None = Field(None, ge=1, le=200)
    environmentVariables: dict[str, str | int | float | bool] | None = None
    layers: list[str] | None = None
    role: str | None = None
    internetAccess: bool | None = None
    logConfig: dict[str, Any] | None = None
    vpcConfig: dict[str, Any] | None = None
    nasConfig: dict[str, Any] | None = None
    ossMountConfig: dict[str, Any] | None = None
    customContainerConfig: dict[str, Any] | None = None
    customRuntimeConfig: dict[str, Any] | None = None
    customDNS: dict[str, Any] | None = None
    instanceLifecycleConfig: dict[str, Any] | None = None
    gpuConfig: dict[str, Any] | None = None
    tracingConfig: dict[str, Any] | None = None
    sessionAffinity: str | None = None
    instanceIsolationMode: str | None = None
    disableOndemand: bool | None = None
    disableInjectCredentials: str | None = Field(None, max_length=16)
    enableLongLiving: bool | None = None
    idleTimeout: int | None = Field(None, ge=0)
    sessionAffinityConfig: str | None = Field(
        None, max_length=4096, description="As FC takes it: a JSON text."
    )
    juiceFsConfig: dict[str, Any] | None = None
    polarFsConfig: dict[str, Any] | None = None
    microSandboxConfig: dict[str, Any] | None = None
    resourceGroupId: str | None = Field(
        None, max_length=64, description="Not compared: FC assigns one when none is given."
    )
    tags: list[dict[str, str]] | None = None
    region: str | None = Field(
        None, max_length=32, description="fc3's region prop; must be the account's region."
    )
    code: Any = Field(
        None,
        description="Not accepted: upload the package and send its `code_sha256` (the fcplane "
        "CLI zips an s.yaml's code directory for you).",
        json_schema_extra={"deprecated": True},
    )
    triggers: list[TriggerProps] | None = Field(
        None, description="The function's triggers, each identified by its triggerName."
    )
    asyncInvokeConfig: AsyncInvokeConfigProps | None = None
    provisionConfig: ProvisionConfigProps | None = None
    concurrencyConfig: ConcurrencyConfigProps | None = None
    customDomain: CustomDomainProps | None = Field(
        None, description="This function's route on a custom domain (and the domain's settings)."
    )

    @field_validator("code")
    @classmethod
    def _no_inline_code(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(
                "code is sent as a package: upload it with PUT /v1/code-packages/{sha256} and "
                "deploy with code_sha256"
            )
        return value

    _unique_triggers = field_validator("triggers")(unique_trigger_names)

    @field_validator("environmentVariables")
    @classmethod
    def _within_fc_env_limit(
        cls, env: dict[str, str | int | float | bool] | None
    ) -> dict[str, str | int | float | bool] | None:
        # FC refuses more than 4 KB of variables in all; refused here, before
        # anything is stored, planned or sent.
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in (env or {}).items())
        if size > ENV_LIMIT_BYTES:
            raise ValueError(
                f"the variables take {size} bytes; FC allows {ENV_LIMIT_BYTES} bytes in all "
                "(names and values)"
            )
        return env

    @field_validator("tags")
    @classmethod
    def _one_value_per_tag_key(
        cls, tags: list[dict[str, str]] | None
    ) -> list[dict[str, str]] | None:
        # Tags are compared and deployed as a key -> value map: a tag without a
        # key, or a key given twice, would otherwise be dropped silently.
        seen: set[str] = set()
        for tag in tags or []:
            key = tag.get("Key", tag.get("key"))
            if not key:
                raise ValueError("each tag needs a Key")
            if key in seen:
                raise ValueError(f"tag key {key!r} is given more than once")
            seen.add(key)
        return tags

    @model_validator(mode="after")
    def _fc_spec_rules(self) -> FunctionConfig:
        # FC 3.0's spec rules; FC would reject these later with a less exact message.
        if self.cpu is not None and self.memorySize is not None:
            problem = specs.spec_problem(self.cpu, self.memorySize)
        elif self.cpu is not None:
            problem = specs.cpu_problem(self.cpu)
        elif self.memorySize is not None:
            problem = specs.memory_problem(self.memorySize)
        else:
            problem = None
        if problem is not None:
            raise ValueError(problem)
        return self

    def wire(self) -> dict[str, Any]:
        """The props as plain data (region and code, checked here, are not state)."""
        return self.model_dump(exclude_none=True, exclude={"region", "code"})


class FunctionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FunctionName
    adopt: bool = Field(
        False, description="Take over an existing live function: it becomes revision 1."
    )


def _as_props(config: dict[str, Any]) -> dict[str, Any]:
    # Stored canonical (triggers keyed by name); shown as fc3 props (a list), so a
    # revision's config can be sent back as a deploy's config unchanged.
    return props_of(config)


class AppliedState(BaseModel):
    revision: int
    config: dict[str, Any] = Field(description="The resource FC ran after the deploy, as props.")
    code_checksum: str | None
    applied_at: datetime | None

    _props = field_validator("config")(_as_props)


class FunctionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    account: str = Field(validation_alias=AliasPath("account", "alias"))
    head_revision: int
    applied: AppliedState | None = Field(validation_alias="applied_view")
    drift_status: DriftStatus
    drift_checked_at: datetime | None
    deploying: str | None = Field(
        None,
        description="What holds the function now, if anything: a deployment's id, or "
        "`remove-…` / `publish-…` for a removal or a version publish in progress.",
    )
    created_at: datetime
    created_by: str | None


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    config: dict[str, Any] = Field(
        description="The whole resource (function config and sub-resources) as fc3 props."
    )
    code_sha256: str | None
    code_checksum: str | None
    source: RevisionSource
    message: str | None
    created_at: datetime
    created_by: str | None

    _props = field_validator("config")(_as_props)


class Change(BaseModel):
    """One field that differs between two states of a resource."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"path": "/memorySize", "base": 512, "value": 1024}]}
    )

    path: str = Field(
        description="RFC 6901 JSON pointer into the resource's props; triggers are keyed by "
        "name (`/triggers/http_t/triggerConfig/methods`), the code is `/code`."
    )
    base: Any = Field(description="The value before (null: the field was absent).")
    value: Any = Field(description="The value after (null: the field was removed).")


class Conflict(BaseModel):
    """A field both sides changed, to different values."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"path": "/timeout", "base": 3, "local": 10, "remote": 20}]}
    )

    path: str = Field(description="RFC 6901 JSON pointer into the resource's props.")
    base: Any = Field(description="The value in the base (null: absent).")
    local: Any = Field(description="The value this request wants (null: removed).")
    remote: Any = Field(description="The value FC (or the newer head) has (null: removed).")


class PatchOperation(BaseModel):
    """One RFC 6902 JSON Patch operation."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"op": "replace", "path": "/memorySize", "value": 1024}]}
    )

    op: Literal["add", "replace", "remove"]
    path: str = Field(description="RFC 6901 JSON pointer into the resource's props.")
    # A sentinel, not None: `"value": null` sets a field to null; `remove` has no value.
    value: Any = Field(
        default_factory=lambda: _ABSENT,
        exclude_if=lambda value: value is _ABSENT,
        description="The new value (absent for `remove`).",
    )


class DiffOut(BaseModel):
    account: str
    function: str
    from_revision: int = Field(serialization_alias="from")
    to_revision: int = Field(serialization_alias="to")
    changes: list[Change]
    patch: list[PatchOperation]
    text: str
