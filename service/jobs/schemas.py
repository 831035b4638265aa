from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator

from service.functions.schemas import FunctionName

KindName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z0-9-]*$",
        description='Job kind: "stress", "eval-spec" or "eval-concurrency".',
        examples=["stress"],
    ),
]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: KindName
    account: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Alias of the account the function lives in; default: the default account.",
    )
    function: FunctionName
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters of the kind, validated by it (each kind's parameters are "
        "listed in the README).",
    )


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    account: str = Field(validation_alias=AliasPath("function", "account", "alias"))
    function: str = Field(validation_alias=AliasPath("function", "name"))
    status: JobStatus
    progress: float = Field(description="0..1")
    progress_note: str | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int = Field(description="Attempts started (a retry after a lost worker adds one).")
    cancel_requested: bool
    reports: list[str] = Field(
        description='Stored HTML reports: "summary" is served at /v1/jobs/{id}/report, '
        '"locust" (stress jobs) at /v1/jobs/{id}/report/locust.'
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str | None

    @field_validator("reports", mode="before")
    @classmethod
    def _names(cls, reports: Any) -> Any:
        return [getattr(r, "name", r) for r in reports]
