"""Parameters of the eval jobs (`params` of POST /v1/jobs: `eval-spec`, `eval-concurrency`)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from service.evals.pricing import spec_problem


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
    model_config = ConfigDict(extra="forbid")

    specs: list[Spec] | None = Field(
        None, min_length=1, description="Default: a ladder around the live spec."
    )
    invocations: int = Field(20, ge=1, description="Measured invocations per spec.")
    warmup: int = Field(2, ge=0, le=100, description="Unmeasured invocations per spec first.")
    trim: float = Field(
        0.1, ge=0, lt=0.5, description="Share of the fastest and of the slowest runs discarded."
    )
    payload: JsonValue = None
    strategy: Literal["cost", "speed", "balanced"] = "balanced"
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
    model_config = ConfigDict(extra="forbid")

    concurrency: list[int] | ConcurrencyRange = Field(
        description="Instance-concurrency values to try: a list, or {min, max, step}."
    )
    duration_s: float = Field(gt=0, description="Load time at each step.")
    rt_threshold_ms: float = Field(gt=0, description="p99 latency the recommendation must meet.")
    target: Literal["http", "invoke"] = "invoke"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field("/", max_length=2048, pattern=r"^/[^\s#]*$")
    payload: JsonValue = None
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
