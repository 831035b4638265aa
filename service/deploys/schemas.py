from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.functions.schemas import FunctionConfig, RevisionOut, Sha256

StrategyField = Literal["fail", "use-local", "use-remote", "merge"]


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: FunctionConfig = Field(default_factory=FunctionConfig)
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
    strategy: StrategyField = Field(
        "fail", description="What to do when the function changed since base_revision."
    )
    message: str | None = Field(None, max_length=2000)


class PlanRequest(DeployRequest):
    save: bool = Field(False, description="Keep the plan so it can be applied later.")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_revision: int = Field(ge=1, le=2**31 - 1)
    base_revision: int | None = Field(None, ge=0, le=2**31 - 1)
    strategy: StrategyField = "fail"
    message: str | None = Field(None, max_length=2000)


class DeploymentOut(BaseModel):
    id: str
    function: str
    status: Literal["in_progress", "succeeded", "failed", "conflict", "interrupted"]
    kind: str
    strategy: str
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
    revision: RevisionOut | None = Field(
        None, description="The revision this deployment created (use-remote: the adopted config)."
    )


class PlanOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, description="Set when the plan was saved.")
    function: str
    base_revision: int
    head_revision: int
    drifted: bool
    remote_missing: bool
    interrupted_deployment: str | None
    local_changes: list[dict[str, Any]]
    remote_changes: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    local_patch: list[dict[str, Any]]
    remote_patch: list[dict[str, Any]]
    text: str
