"""The eval jobs' parameters (`params` of POST /v1/jobs: `eval-spec`, `eval-concurrency`)
and results."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

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


_SPEC_EXAMPLE: dict[str, JsonValue] = {
    "cpu": 1.0,
    "memorySize": 2048,
    "invocations": 20,
    "errors": 0,
    "error_types": {},
    "duration_ms": 182.4,
    "cost_per_invocation": 4.1e-06,
    "cu_per_invocation": 0.2052,
    "min_ms": 170,
    "p50_ms": 181,
    "max_ms": 240,
    "max_memory_mb": 61.2,
}


class PriceModelOut(BaseModel):
    """The FC price model the costs were computed with (see the FCPLANE_PRICE_* settings)."""

    price_per_cu: float
    cu_per_vcpu_second: float
    cu_per_gb_second: float
    cu_per_disk_gb_second: float
    cu_per_10k_invocations: float


class SpecFigures(BaseModel):
    """What one spec measured; the timing fields are absent when no invocation succeeded."""

    cpu: float
    memorySize: int
    invocations: int = Field(description="Measured invocations (failed ones included).")
    errors: int
    error_types: dict[str, int]
    duration_ms: float | None = Field(description="Trimmed mean of the billed durations.")
    cost_per_invocation: float | None
    cu_per_invocation: float | SkipJsonSchema[None] = absent_when_none("CUs per invocation.")
    min_ms: int | SkipJsonSchema[None] = absent_when_none("Fastest billed duration.")
    p50_ms: int | SkipJsonSchema[None] = absent_when_none("Median billed duration.")
    max_ms: int | SkipJsonSchema[None] = absent_when_none("Slowest billed duration.")
    max_memory_mb: float | SkipJsonSchema[None] = absent_when_none("Most memory used.")


class SpecScore(BaseModel):
    cpu: float
    memorySize: int
    score: float


class SpecRecommendation(BaseModel):
    """The spec the strategy picks among those that never failed."""

    cpu: float
    memorySize: int
    strategy: Literal["cost", "speed", "balanced"]
    duration_ms: float
    cost_per_invocation: float
    cost_per_1m: float = Field(description="Cost of a million invocations.")
    cheapest_cost_per_invocation: float
    fastest_duration_ms: float
    relative_cost: float = Field(description="Its cost over the cheapest spec's.")
    relative_duration: float = Field(description="Its duration over the fastest spec's.")
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
        serialize_by_alias=True,
        json_schema_extra={
            "examples": [
                {
                    "specs": [_SPEC_EXAMPLE],
                    "recommendation": {
                        "cpu": 1.0,
                        "memorySize": 2048,
                        "strategy": "cost",
                        "duration_ms": 182.4,
                        "cost_per_invocation": 4.1e-06,
                        "cost_per_1m": 4.1,
                        "cheapest_cost_per_invocation": 4.1e-06,
                        "fastest_duration_ms": 182.4,
                        "relative_cost": 1.0,
                        "relative_duration": 1.0,
                    },
                    "live": {"cpu": 1.0, "memorySize": 2048, "measured": _SPEC_EXAMPLE},
                    "copy": "hello--eval-3f2a",
                    "trim": 0.1,
                    "invocations": 20,
                    "warmup": 2,
                    "price_model": {
                        "price_per_cu": 2e-05,
                        "cu_per_vcpu_second": 1.0,
                        "cu_per_gb_second": 0.15,
                        "cu_per_disk_gb_second": 0.05,
                        "cu_per_10k_invocations": 75.0,
                    },
                    "wall_s": 41.2,
                }
            ]
        },
    )

    specs: list[SpecFigures]
    recommendation: SpecRecommendation | None = Field(description="Null when every spec failed.")
    live: LiveSpec
    copy_: str = Field(alias="copy", description="The disposable copy the specs ran on.")
    trim: float
    invocations: int
    warmup: int
    price_model: PriceModelOut
    wall_s: float = Field(description="How long the eval took.")


class ConcurrencyStep(BaseModel):
    """What one instance-concurrency value measured."""

    concurrency: int
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    rps: float
    errors: int
    throttles: int
    error_types: dict[str, int]


class ConcurrencyRecommendation(BaseModel):
    """The highest concurrency whose p99 stayed under the threshold (and few errors)."""

    instanceConcurrency: int
    cost_per_10k: float | None = Field(description="Cost of 10,000 requests at that rate.")
    p99_ms: float
    rps: float
    rt_threshold_ms: float
    cpu: float
    memorySize: int


class LiveConcurrency(BaseModel):
    cpu: float
    memorySize: int
    instanceConcurrency: int | None


class EvalConcurrencyResult(BaseModel):
    """What an `eval-concurrency` job measured, and its recommendation."""

    model_config = ConfigDict(
        serialize_by_alias=True,
        json_schema_extra={
            "examples": [
                {
                    "steps": [
                        {
                            "concurrency": 10,
                            "requests": 5210,
                            "p50_ms": 18.2,
                            "p99_ms": 95.0,
                            "rps": 520.4,
                            "errors": 0,
                            "throttles": 0,
                            "error_types": {},
                        }
                    ],
                    "recommendation": {
                        "instanceConcurrency": 10,
                        "cost_per_10k": 0.0021,
                        "p99_ms": 95.0,
                        "rps": 520.4,
                        "rt_threshold_ms": 200.0,
                        "cpu": 1.0,
                        "memorySize": 2048,
                    },
                    "target": "http",
                    "duration_s": 10.0,
                    "rt_threshold_ms": 200.0,
                    "copy": "hello--eval-3f2a",
                    "live": {"cpu": 1.0, "memorySize": 2048, "instanceConcurrency": 1},
                    "price_model": {
                        "price_per_cu": 2e-05,
                        "cu_per_vcpu_second": 1.0,
                        "cu_per_gb_second": 0.15,
                        "cu_per_disk_gb_second": 0.05,
                        "cu_per_10k_invocations": 75.0,
                    },
                    "wall_s": 52.0,
                }
            ]
        },
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
    wall_s: float
