"""The eval jobs' parameters (`params` of POST /v1/jobs: `eval-spec`, `eval-concurrency`)
and results."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.evals.examples import CONCURRENCY_RESULT_EXAMPLE, SPEC_RESULT_EXAMPLE
from service.evals.pricing import spec_problem
from service.kit.openapi import absent_when_none


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu: float
    memorySize: int

    @model_validator(mode="after")
    def _fc_rules(self) -> Self:
        problem = spec_problem(self.cpu, self.memorySize)
        if problem:
            raise ValueError(problem)
        return self


class EvalSpecParams(BaseModel):
    """Run the function at several cpu/memory specs (on a disposable copy) and recommend one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "specs": [{"cpu": 0.5, "memorySize": 1024}, {"cpu": 1, "memorySize": 2048}],
                    "invocations": 20,
                    "strategy": "cost",
                }
            ]
        },
    )

    specs: list[Spec] | None = Field(
        None, min_length=1, description="Default: a ladder around the live spec."
    )
    invocations: int = Field(20, ge=1, description="Measured invocations per spec.")
    warmup: int = Field(2, ge=0, le=100, description="Unmeasured invocations per spec first.")
    trim: float = Field(
        0.1, ge=0, lt=0.5, description="Share of the fastest and of the slowest runs discarded."
    )
    payload: JsonValue = Field(None, description="The event each invocation gets.")
    strategy: Literal["cost", "speed", "balanced"] = Field(
        "balanced",
        description="`cost`: the cheapest spec; `speed`: the fastest; `balanced`: weighs both.",
    )
    balanced_weight: float = Field(
        0.5, ge=0, le=1, description="balanced: weight of cost (1 - weight goes to speed)."
    )

    @field_validator("specs")
    @classmethod
    def _distinct(cls, specs: list[Spec] | None) -> list[Spec] | None:
        if specs is not None:
            keys = [(s.cpu, s.memorySize) for s in specs]
            if len(set(keys)) != len(keys):
                raise ValueError("specs must be distinct")
        return specs


class ConcurrencyRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=1)
    max: int = Field(ge=1)
    step: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max < self.min:
            raise ValueError("max must be >= min")
        return self

    def values(self) -> list[int]:
        values = list(range(self.min, self.max + 1, self.step))
        return values if values[-1] == self.max else [*values, self.max]


class EvalConcurrencyParams(BaseModel):
    """Load one instance at several instance-concurrency values (custom runtimes) and
    recommend the highest whose p99 latency stays under `rt_threshold_ms`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "concurrency": {"min": 1, "max": 20, "step": 5},
                    "duration_s": 10,
                    "rt_threshold_ms": 200,
                    "target": "http",
                }
            ]
        },
    )

    concurrency: list[int] | ConcurrencyRange = Field(
        description="Instance-concurrency values to try: a list, or {min, max, step}."
    )
    duration_s: float = Field(gt=0, description="Load time at each step.")
    rt_threshold_ms: float = Field(gt=0, description="p99 latency the recommendation must meet.")
    target: Literal["http", "invoke"] = Field(
        "invoke", description="`invoke`: the InvokeFunction API; `http`: an HTTP trigger."
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        "POST", description="HTTP method (target `http` only)."
    )
    path: str = Field(
        "/", max_length=2048, pattern=r"^/[^\s#]*$", description="Path (target `http` only)."
    )
    payload: JsonValue = Field(None, description="The body of each request.")
    warmup_s: float = Field(1.0, ge=0, le=60, description="Unmeasured load before each step.")

    @field_validator("concurrency")
    @classmethod
    def _positive(cls, value: list[int] | ConcurrencyRange) -> list[int] | ConcurrencyRange:
        if isinstance(value, list):
            if not value:
                raise ValueError("give at least one concurrency value")
            if any(v < 1 for v in value):
                raise ValueError("concurrency values must be >= 1")
        return value

    def levels(self) -> list[int]:
        if isinstance(self.concurrency, ConcurrencyRange):
            return self.concurrency.values()
        return sorted(set(self.concurrency))


class PriceModelOut(BaseModel):
    """The FC price model the costs were computed with (see the FCPLANE_PRICE_* settings)."""

    price_per_cu: float
    cu_per_vcpu_second: float
    cu_per_gb_second: float
    cu_per_disk_gb_second: float
    cu_per_10k_invocations: float
    currency: str = Field("USD", description="ISO 4217 code every cost is in.")


class Interval(BaseModel):
    """A 95% confidence interval of a measured figure."""

    level: float = Field(description="0.95.")
    method: str = Field(
        description="`t`: Student-t interval of the trimmed mean (Yuen's, winsorized "
        "variance); `order-statistic`: distribution-free interval of a percentile."
    )
    low: float
    high: float
    stderr: float | SkipJsonSchema[None] = absent_when_none("`t`: the standard error.")
    samples: int = Field(description="Samples the interval was computed from.")
    capped: bool | SkipJsonSchema[None] = absent_when_none(
        "`order-statistic`: too few samples for the upper end; `high` is the slowest seen."
    )


class CostInterval(BaseModel):
    """The cost per invocation at each end of the duration interval."""

    low: float
    high: float


class SpecFigures(BaseModel):
    """What one spec measured; the timing fields are absent when no invocation succeeded."""

    cpu: float
    memorySize: int
    invocations: int = Field(description="Measured invocations (failed ones included).")
    errors: int
    error_types: dict[str, int]
    duration_ms: float | None = Field(description="Trimmed mean of the billed durations.")
    ci: Interval | SkipJsonSchema[None] = absent_when_none(
        "95% interval of `duration_ms`; absent below two kept samples (and in results "
        "stored before intervals were computed)."
    )
    cost_per_invocation: float | None
    cost_ci: CostInterval | SkipJsonSchema[None] = absent_when_none(
        "Cost per invocation at the ends of `ci`."
    )
    cu_per_invocation: float | SkipJsonSchema[None] = absent_when_none("CUs per invocation.")
    min_ms: int | SkipJsonSchema[None] = absent_when_none("Fastest billed duration.")
    p50_ms: int | SkipJsonSchema[None] = absent_when_none("Median billed duration.")
    max_ms: int | SkipJsonSchema[None] = absent_when_none("Slowest billed duration.")
    max_memory_mb: float | SkipJsonSchema[None] = absent_when_none("Most memory used.")


class SpecScore(BaseModel):
    cpu: float
    memorySize: int
    score: float


class EquivalentSpec(BaseModel):
    """The strategy's own pick, set aside for a cheaper spec it cannot be told apart from."""

    cpu: float
    memorySize: int
    duration_ms: float
    cost_per_invocation: float
    ci: Interval | SkipJsonSchema[None] = absent_when_none("Its 95% duration interval.")


class Separation(BaseModel):
    """The recommendation against its closest rival (the set-aside pick, else the runner-up)."""

    cpu: float
    memorySize: int
    difference_ms: float = Field(description="Difference of the trimmed means.")
    distinguishable: bool = Field(description="Whether the two 95% intervals do not overlap.")
    equivalent: bool = Field(description="The difference is within the timer's resolution.")
    invocations_per_spec: int | None = Field(
        description="Invocations per spec after which the intervals would stop overlapping "
        "in 80% of runs, if the observed difference and spread are real; null when equivalent "
        "or without intervals."
    )
    note: str = Field(description="The same, in a sentence.")


class SpecRecommendation(BaseModel):
    """The spec the strategy picks among those that never failed, preferring a cheaper spec
    whose interval overlaps the pick's (see `reason` and `equivalent_to`)."""

    cpu: float
    memorySize: int
    strategy: Literal["cost", "speed", "balanced"]
    duration_ms: float
    ci: Interval | SkipJsonSchema[None] = absent_when_none("95% interval of `duration_ms`.")
    cost_per_invocation: float
    cost_per_1m: float = Field(description="Cost of a million invocations.")
    currency: str | SkipJsonSchema[None] = absent_when_none("ISO 4217 code of the costs.")
    cheapest_cost_per_invocation: float
    fastest_duration_ms: float
    relative_cost: float = Field(description="Its cost over the cheapest spec's.")
    relative_duration: float = Field(description="Its duration over the fastest spec's.")
    meaningful: bool | SkipJsonSchema[None] = absent_when_none(
        "False when every spec measured within the timer's resolution: no meaningful pick."
    )
    reason: str | SkipJsonSchema[None] = absent_when_none("Why this spec, in a sentence.")
    equivalent_to: EquivalentSpec | SkipJsonSchema[None] = absent_when_none(
        "The strategy's own pick, when it could not be told apart from this cheaper spec."
    )
    separation: Separation | SkipJsonSchema[None] = absent_when_none(
        "How far apart this spec and its closest rival are (absent with one spec)."
    )
    saving_vs_live_pct: float | SkipJsonSchema[None] = absent_when_none(
        "Cost per invocation saved against the live spec as measured, in percent (negative: "
        "dearer); absent when the live spec was not measured."
    )
    balanced_weight: float | SkipJsonSchema[None] = absent_when_none("`balanced` only.")
    score: float | SkipJsonSchema[None] = absent_when_none("`balanced` only: lower is better.")
    scores: list[SpecScore] | SkipJsonSchema[None] = absent_when_none(
        "`balanced` only: every spec's score."
    )


class LiveSpec(BaseModel):
    cpu: float
    memorySize: int
    measured: SpecFigures | None = Field(description="The live spec's figures, if it was run.")


class EvalSpecResult(BaseModel):
    """What an `eval-spec` job measured, and its recommendation."""

    model_config = ConfigDict(
        serialize_by_alias=True, json_schema_extra={"examples": [SPEC_RESULT_EXAMPLE]}
    )

    specs: list[SpecFigures]
    recommendation: SpecRecommendation | None = Field(description="Null when every spec failed.")
    live: LiveSpec
    copy_: str = Field(alias="copy", description="The disposable copy the specs ran on.")
    trim: float
    invocations: int
    warmup: int
    price_model: PriceModelOut
    ci_method: str | SkipJsonSchema[None] = absent_when_none("How the intervals were computed.")
    timer_resolution_ms: float | SkipJsonSchema[None] = absent_when_none(
        "The billing timer's resolution: differences at or below it mean nothing."
    )
    warnings: list[str] = Field(
        default_factory=list, description="What to know before trusting the recommendation."
    )
    wall_s: float = Field(description="How long the eval took.")


class ConcurrencyStep(BaseModel):
    """What one instance-concurrency value measured."""

    concurrency: int
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    p99_ci: Interval | SkipJsonSchema[None] = absent_when_none("95% interval of `p99_ms`.")
    rps: float
    errors: int
    throttles: int
    error_types: dict[str, int]


class ConcurrencyRecommendation(BaseModel):
    """The highest concurrency whose p99 stayed under the threshold (and few errors)."""

    instanceConcurrency: int
    cost_per_10k: float | None = Field(description="Cost of 10,000 requests at that rate.")
    currency: str | SkipJsonSchema[None] = absent_when_none("ISO 4217 code of the costs.")
    p99_ms: float
    p99_ci: Interval | SkipJsonSchema[None] = absent_when_none("95% interval of `p99_ms`.")
    rps: float
    rt_threshold_ms: float
    cpu: float
    memorySize: int
    reason: str | SkipJsonSchema[None] = absent_when_none(
        "Why this value, and whether the threshold lies inside its p99 interval."
    )
    saving_vs_live_pct: float | SkipJsonSchema[None] = absent_when_none(
        "Cost per request saved against the live instanceConcurrency as measured, in percent; "
        "absent when that value was not a step."
    )


class LiveConcurrency(BaseModel):
    cpu: float
    memorySize: int
    instanceConcurrency: int | None


class EvalConcurrencyResult(BaseModel):
    """What an `eval-concurrency` job measured, and its recommendation."""

    model_config = ConfigDict(
        serialize_by_alias=True, json_schema_extra={"examples": [CONCURRENCY_RESULT_EXAMPLE]}
    )

    steps: list[ConcurrencyStep]
    recommendation: ConcurrencyRecommendation | None = Field(
        description="Null when no step met the threshold."
    )
    target: Literal["http", "invoke"]
    duration_s: float
    rt_threshold_ms: float
    copy_: str = Field(alias="copy", description="The disposable copy the steps ran on.")
    live: LiveConcurrency
    price_model: PriceModelOut
    ci_method: str | SkipJsonSchema[None] = absent_when_none("How the intervals were computed.")
    wall_s: float
