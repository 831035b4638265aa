from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from service.functions.schemas import (
    Change,
    Conflict,
    FunctionConfig,
    PatchOperation,
    RevisionOut,
    Sha256,
)
from service.kit.openapi import ErrorDetail, Problem, absent_when_none
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
    allow_missing_handler: bool = Field(
        False,
        description="Deploy even when the code package lacks the file the handler names "
        "(the plan's `handler_missing` warning), e.g. code built elsewhere; otherwise that "
        "is a 422 naming `config.handler`.",
    )


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
    error: ErrorDetail | None = Field(description="Why it failed or was refused.")
    discarded_changes: list[Change] = Field(
        default_factory=list,
        description="Local changes of the request this deployment did not apply (use-remote "
        "adopts FC's state instead; merge leaves a change out only when FC already has it "
        "differently): `{path, base, value}` each.",
    )
    overwritten_changes: list[Change] = Field(
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


class PlanWarningOut(BaseModel):
    """Something the plan can see will fail after the deploy."""

    code: Literal["handler_missing"] = Field(
        description="`handler_missing`: the code package has no file for the handler (Python "
        "module, Node.js file) or the custom runtime's bootstrap / relative command."
    )
    field: str = Field(description="The request field at fault, e.g. `config.handler`.")
    message: str


class PlanOut(BaseModel):
    """What a deploy would change, locally and remotely, and where the two conflict."""

    id: str | None = Field(None, description="Set when the plan was saved.")
    account: str
    function: str
    base_revision: int = Field(description="The revision the change started from.")
    head_revision: int = Field(description="The newest deployed revision.")
    drifted: bool = Field(description="FC differs from what fcplane last applied.")
    remote_missing: bool = Field(description="FC does not have the function.")
    interrupted_deployment: str | None = Field(
        description="A deployment that pushed to FC but died before recording it."
    )
    deploying: str | None = Field(
        None,
        description="Another deployment (or a `remove-…` / `publish-…` operation) holds the "
        "function: the remote changes are what that deployment is deploying (for an "
        "operation, what FC runs); a deploy now is refused with 409 and Retry-After.",
    )
    local_changes: list[Change] = Field(description="Base to this request's config.")
    remote_changes: list[Change] = Field(
        description="Base to what FC runs (or to the newer head, or to what the deployment "
        "holding the function pushes)."
    )
    conflicts: list[Conflict] = Field(description="Fields both sides changed differently.")
    local_patch: list[PatchOperation] = Field(description="`local_changes` as RFC 6902.")
    remote_patch: list[PatchOperation] = Field(description="`remote_changes` as RFC 6902.")
    text: str = Field(description="The plan for a reader (`~ memorySize: 512 => 1024`).")
    warnings: list[PlanWarningOut] = Field(
        default_factory=list,
        description="What the deploy would break though FC accepts it; a `handler_missing` "
        "warning makes the deploy a 422 unless it sets `allow_missing_handler`.",
    )


class ConflictProblem(Problem):
    """A 409 about a function's state.

    `revision_conflict`: another deploy moved the head since `base_revision`, or is
    deploying now (then with `Retry-After`); `drift_conflict`: FC differs from what
    fcplane applied (a console edit). Both carry the plan; retry with a `strategy`.
    `stale_plan`: a saved plan's head, applied or live state moved (with the new plan)
    or it was applied already (with `deployment_id`). `idempotency_in_progress`: the
    request with this Idempotency-Key still runs (`deployment_id`, `Retry-After`).
    """

    plan: PlanOut | SkipJsonSchema[None] = absent_when_none(
        "The plan as it stands now (revision_conflict, drift_conflict)."
    )
    deployment_id: str | SkipJsonSchema[None] = absent_when_none(
        "The deployment recorded for the refused request."
    )
