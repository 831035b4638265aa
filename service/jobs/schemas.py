"""Job request and response bodies.

The server validates a job with its kind's own models (any registered kind), so
`JobCreate` and `JobOut` are generic here. What the API *documents* is one
schema per built-in kind, discriminated by `kind` (`StressJobCreate` with
`StressParams`, `StressJob` with `StressResult`, ...): generated clients get
typed params and results.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from service.build.schemas import BuildParams, BuildResult
from service.evals.schemas import (
    EvalConcurrencyParams,
    EvalConcurrencyResult,
    EvalSpecParams,
    EvalSpecResult,
)
from service.functions.schemas import FunctionName
from service.loadtest.schemas import StressLive, StressParams, StressResult

KindName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z0-9-]*$",
        description='Job kind: "stress", "eval-spec", "eval-concurrency" or "build".',
        examples=["stress"],
    ),
]
# The routes a stored report is served at, by report name.
REPORT_PATHS = {"summary": "/report", "locust": "/report/locust"}


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Alias of the account the job works in (the function's); default: the "
        "default account.",
    )


class JobTarget(JobAccount):
    function: FunctionName


class StressJobCreate(JobTarget):
    """Load the function with Locust (closed or open loop); see `StressParams`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "stress", "function": "hello", "params": {"duration_s": 30, "users": 10}}
            ]
        }
    )

    kind: Literal["stress"]
    params: StressParams


class EvalSpecJobCreate(JobTarget):
    """Find the best cpu/memory spec (CPU-bound functions); see `EvalSpecParams`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "eval-spec", "function": "hello", "params": {"strategy": "balanced"}}
            ]
        }
    )

    kind: Literal["eval-spec"]
    params: EvalSpecParams


class EvalConcurrencyJobCreate(JobTarget):
    """Find the best instance concurrency (IO-bound, custom runtimes); see
    `EvalConcurrencyParams`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "eval-concurrency",
                    "function": "hello",
                    "params": {"concurrency": [1, 5, 10], "duration_s": 10, "rt_threshold_ms": 200},
                }
            ]
        }
    )

    kind: Literal["eval-concurrency"]
    params: EvalConcurrencyParams


class BuildJobCreate(JobAccount):
    """Install a source package's dependencies into a code package or a layer; see
    `BuildParams`. A build is about no function: `account` is where a layer is published."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "build",
                    "params": {"source_sha256": "0" * 64, "runtime": "python3.10"},
                }
            ]
        }
    )

    kind: Literal["build"]
    params: BuildParams


JobRequest = Annotated[
    StressJobCreate | EvalSpecJobCreate | EvalConcurrencyJobCreate | BuildJobCreate,
    Field(discriminator="kind"),
]


class JobCreate(JobAccount):
    """What POST /v1/jobs reads: `params` are validated by the kind before anything is
    queued (422 naming `params.<field>`); `function` is required by the kinds that work on
    one (all but `build`)."""

    kind: KindName
    function: FunctionName | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(JobRequest).core_schema)


class ReportLink(BaseModel):
    name: str = Field(description="`summary`, or `locust` (stress jobs).")
    url: str = Field(json_schema_extra={"format": "uri"}, description="The HTML report.")


class EvalLive(BaseModel):
    """A running eval's progress (`live` of GET /v1/jobs/{id}): the step it is at and
    the results measured so far (each as in the final result)."""

    model_config = ConfigDict(extra="allow")

    step: int | None = Field(None, description="Steps done (specs or concurrency levels).")
    steps: int | None = Field(None, description="Steps in all.")
    partial: list[Any] = Field(default_factory=list, description="Results of the steps done.")


class ArtifactOut(BaseModel):
    name: str = Field(description="File name, e.g. `locust_stats.csv`, `timeline.json`.")
    media_type: str = Field(description="`text/csv` or `application/json`.")
    size: int = Field(description="Bytes.")
    url: str = Field(json_schema_extra={"format": "uri"}, description="Where it is downloaded.")


class ArtifactList(BaseModel):
    items: list[ArtifactOut]


class ReportLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_seconds: int = Field(
        7 * 24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="How long the link works (1 minute to 30 days; default 7 days).",
    )


class SignedReportLink(BaseModel):
    url: str = Field(
        json_schema_extra={"format": "uri"},
        description="The summary report; opens without a bearer token until `expires_at`.",
    )
    expires_at: datetime


class _JobFields(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account: str = Field(validation_alias=AliasPath("account", "alias"))
    status: JobStatus
    progress: float = Field(description="0..1")
    progress_note: str | None
    error: str | None
    attempts: int = Field(description="Attempts started (a retry after a lost worker adds one).")
    cancel_requested: bool
    reports: list[ReportLink] = Field(description="Stored HTML reports (once the job has run).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str | None


class _FunctionJobFields(_JobFields):
    function: str = Field(validation_alias=AliasPath("function", "name"))


class StressJob(_FunctionJobFields):
    kind: Literal["stress"]
    params: StressParams
    live: StressLive | None = Field(
        None, description="Requests, failures, req/s and last-second latencies so far."
    )
    result: StressResult | None = Field(description="Set once the job succeeded.")


class EvalSpecJob(_FunctionJobFields):
    kind: Literal["eval-spec"]
    params: EvalSpecParams
    live: EvalLive | None = Field(None, description="The step and partial results so far.")
    result: EvalSpecResult | None = Field(description="Set once the job succeeded.")


class EvalConcurrencyJob(_FunctionJobFields):
    kind: Literal["eval-concurrency"]
    params: EvalConcurrencyParams
    live: EvalLive | None = Field(None, description="The step and partial results so far.")
    result: EvalConcurrencyResult | None = Field(description="Set once the job succeeded.")


class BuildJob(_JobFields):
    """A build job: it has no `function`."""

    kind: Literal["build"]
    params: BuildParams
    result: BuildResult | None = Field(description="Set once the job succeeded.")
    live: dict[str, Any] | None = Field(
        None,
        description="The latest live figures of a running job (kept after it ends as its last "
        "snapshot); also streamed by GET /v1/jobs/{id}/events.",
    )


Job = Annotated[
    StressJob | EvalSpecJob | EvalConcurrencyJob | BuildJob, Field(discriminator="kind")
]


class JobOut(_JobFields):
    """A job as stored: validate with ``context={"base_url": ...}`` for the report links."""

    function: str | None = Field(None, validation_alias=AliasPath("function", "name"))
    kind: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    live: dict[str, Any] | None = Field(
        None,
        description="The latest live figures of a running job (kept after it ends as its last "
        "snapshot); also streamed by GET /v1/jobs/{id}/events.",
    )

    @model_serializer(mode="wrap")
    def _without_function(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A job without a function (build) has no `function` key at all, as documented.
        data: dict[str, Any] = handler(self)
        if data.get("function") is None:
            data.pop("function", None)
        return data

    @field_validator("reports", mode="before")
    @classmethod
    def _links(cls, reports: Any, info: ValidationInfo) -> Any:
        base = (info.context or {}).get("base_url", "")
        job = f"{base}/v1/jobs/{info.data.get('id')}"
        names = [getattr(r, "name", r) for r in reports]
        return [{"name": n, "url": job + REPORT_PATHS[n]} for n in names if n in REPORT_PATHS]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(TypeAdapter(Job).core_schema)
