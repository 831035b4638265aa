from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator

from service.functions.schemas import FunctionConfig, RevisionOut, Sha256
from service.models.deployment import DeploymentKind, DeploymentStatus, Strategy

STRATEGY_DESCRIPTION = (
    "What to do when the function changed since base_revision: `fail` (409 with the plan), "
    "`use-local` (deploy this config anyway, overwriting the remote changes), `use-remote` "
    "(adopt what FC runs as a new revision; this request's changes are discarded), `merge` "
    "(both sides' non-conflicting changes; 409 on a real conflict)."
)


EXAMPLE_RESOURCE: dict[str, Any] = {
    "runtime": "python3.10",
    "handler": "index.handler",
    "memorySize": 512,
    "timeout": 10,
    "environmentVariables": {"STAGE": "prod"},
    "triggers": [
        {
            "triggerName": "http_t",
            "triggerType": "http",
            "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]},
        },
        {
            "triggerName": "nightly",
            "triggerType": "timer",
            "triggerConfig": {"cronExpression": "0 0 2 * * *", "enable": True, "payload": "{}"},
        },
    ],
    "asyncInvokeConfig": {"maxAsyncRetryAttempts": 1, "maxAsyncEventAgeInSeconds": 3600},
    "concurrencyConfig": {"reservedConcurrency": 10},
    "customDomain": {
        "domainName": "api.example.com",
        "protocol": "HTTP",
        "route": {"path": "/hello/*", "methods": ["GET"]},
    },
}


class DeployRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "base_revision": 3,
                    "code_sha256": "9f86d081884c7d659a2feaa0c55ad015"
                    "a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "config": EXAMPLE_RESOURCE,
                    "strategy": "fail",
                    "message": "raise the timeout",
                }
            ]
        },
    )

    config: FunctionConfig = Field(
        default_factory=FunctionConfig,
        description="The full desired config, not a patch: a field left out means FC's "
        "default (the plan shows what that changes).",
    )
    code_sha256: Sha256 | None = Field(
        None, description="Uploaded code package to deploy; omitted: keep the base's code."
    )
    base_revision: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="The revision this change started from; required once the function has "
        "revisions (0 or omitted for a function never deployed).",
    )
    strategy: Strategy = Field(Strategy.FAIL, description=STRATEGY_DESCRIPTION)
    message: str | None = Field(None, max_length=2000)


class PlanRequest(DeployRequest):
    save: bool = Field(False, description="Keep the plan so it can be applied later.")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_revision: int = Field(ge=1, le=2**31 - 1)
    base_revision: int | None = Field(None, ge=0, le=2**31 - 1)
    strategy: Strategy = Field(Strategy.FAIL, description=STRATEGY_DESCRIPTION)
    message: str | None = Field(None, max_length=2000)


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account: str = Field(validation_alias=AliasPath("function", "account", "alias"))
    function: str = Field(validation_alias=AliasPath("function", "name"))
    status: DeploymentStatus
    kind: DeploymentKind
    strategy: Strategy
    base_revision: int | None
    from_revision: int
    to_revision: int | None
    message: str | None
    created_by: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    fc_request_ids: list[str]
    error: dict[str, Any] | None
    discarded_changes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Local changes of the request this deployment did not apply (use-remote "
        "adopts FC's state instead; merge leaves a change out only when FC already has it "
        "differently): `{path, base, value}` each.",
    )
    overwritten_changes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Remote changes (console edits, another deploy) this deployment replaced "
        "(use-local): `{path, base, value}` each.",
    )
    revision: RevisionOut | None = Field(
        None, description="The revision this deployment created (use-remote: the adopted config)."
    )

    @field_validator("discarded_changes", "overwritten_changes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("fc_request_ids", mode="before")
    @classmethod
    def _only_ids(cls, value: Any) -> Any:
        return [rid for rid in value or [] if rid]


class PlanOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, description="Set when the plan was saved.")
    account: str
    function: str
    base_revision: int
    head_revision: int
    drifted: bool = Field(description="FC differs from what fcplane last applied.")
    remote_missing: bool
    interrupted_deployment: str | None
    deploying: str | None = Field(
        None,
        description="Another deployment (or a `remove-…` / `publish-…` operation) holds the "
        "function: the remote changes are what that deployment is deploying (for an "
        "operation, what FC runs); a deploy now is refused with 409 and Retry-After.",
    )
    local_changes: list[dict[str, Any]]
    remote_changes: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    local_patch: list[dict[str, Any]]
    remote_patch: list[dict[str, Any]]
    text: str
