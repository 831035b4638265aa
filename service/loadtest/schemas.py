"""Parameters of a stress job (`params` of POST /v1/jobs with kind `stress`)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator


class WeightedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: JsonValue = Field(None, description="Sent as UTF-8 when a string, else as JSON.")
    weight: float = Field(1.0, gt=0, le=1_000_000)


class StressParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Literal["invoke", "http"] = "invoke"
    duration_s: int = Field(ge=1, description="How long the load runs (upper bound: a setting).")
    users: int | None = Field(
        None, ge=1, description="Closed loop: simulated users; with rps: users sharing the pace."
    )
    spawn_rate: float | None = Field(None, gt=0, description="Users started per second.")
    rps: float | None = Field(None, gt=0, description="Open loop: target requests per second.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "POST"
    path: str = Field("/", max_length=2048, pattern=r"^/[^\s#]*$")
    headers: dict[str, str] = Field(default_factory=dict, max_length=64)
    payload: JsonValue = None
    payloads: list[WeightedPayload] | None = Field(None, min_length=1, max_length=100)
    qualifier: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    timeout_s: float = Field(30.0, gt=0, le=900, description="Per-request timeout.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.users is None and self.rps is None:
            raise ValueError("give users (closed loop) or rps (open loop)")
        if self.payload is not None and self.payloads is not None:
            raise ValueError("give payload or payloads, not both")
        if self.target == "invoke":
            if self.method != "POST" or self.path != "/":
                raise ValueError("method and path apply to target 'http' only")
        elif self.qualifier is not None:
            raise ValueError("qualifier applies to target 'invoke' only (a trigger has its own)")
        return self
