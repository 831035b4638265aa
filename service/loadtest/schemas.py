"""A stress job's parameters (`params` of POST /v1/jobs with kind `stress`) and result."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic.json_schema import SkipJsonSchema

from service.kit.openapi import absent_when_none


class WeightedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: JsonValue = Field(None, description="Sent as UTF-8 when a string, else as JSON.")
    weight: float = Field(1.0, gt=0, le=1_000_000)


class StressParams(BaseModel):
    """Load a function for `duration_s`: closed loop with `users`, or open loop at `rps`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"target": "invoke", "duration_s": 30, "users": 10, "payload": {"n": 1}},
                {"target": "http", "method": "GET", "path": "/hello", "duration_s": 60, "rps": 50},
            ]
        },
    )

    target: Literal["invoke", "http"] = Field(
        "invoke",
        description="`invoke`: the InvokeFunction API; `http`: the function's HTTP trigger.",
    )
    duration_s: int = Field(ge=1, description="How long the load runs (upper bound: a setting).")
    users: int | None = Field(
        None, ge=1, description="Closed loop: simulated users; with rps: users sharing the pace."
    )
    spawn_rate: float | None = Field(None, gt=0, description="Users started per second.")
    rps: float | None = Field(None, gt=0, description="Open loop: target requests per second.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(
        "POST", description="HTTP method (target `http` only)."
    )
    path: str = Field(
        "/",
        max_length=2048,
        pattern=r"^/[^\s#]*$",
        description="Path under the trigger's URL (target `http` only).",
    )
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=64, description="Sent with every request."
    )
    payload: JsonValue = Field(None, description="Sent as UTF-8 when a string, else as JSON.")
    payloads: list[WeightedPayload] | None = Field(
        None, min_length=1, max_length=100, description="Several bodies, picked by weight."
    )
    qualifier: str | None = Field(
        None,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Version or alias to invoke (target `invoke` only).",
    )
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


class StressFailures(BaseModel):
    total: int
    by_type: dict[str, int] = Field(description="Failures per error (status or exception).")


class StressLatency(BaseModel):
    """Response times in milliseconds (null: no request succeeded)."""

    p50: float | None
    p90: float | None
    p99: float | None
    p999: float | None
    max: float | None


class StressSecond(BaseModel):
    """One second of the run."""

    t: int = Field(description="Seconds since the first request.")
    rps: int = Field(description="Requests finished in this second.")
    p50_ms: float | None
    p99_ms: float | None
    failures: int


class StressResult(BaseModel):
    """What a stress job measured."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "requests": 1480,
                    "failures": {"total": 2, "by_type": {"HTTP 502": 2}},
                    "achieved_rps": 49.3,
                    "target_rps": 50.0,
                    "duration_s": 29.412,
                    "requested_duration_s": 30,
                    "measured_window_s": 29.412,
                    "window_note": "The measured window is 0.588 s shorter than the requested "
                    "30 s: the run time counts from Locust's start, before the first request is "
                    "sent, and the window ends at the last answer. No warm-up is excluded: every "
                    "request counts in the figures.",
                    "latency_ms": {
                        "p50": 12.1,
                        "p90": 20.4,
                        "p99": 48.0,
                        "p999": 90.2,
                        "max": 95.0,
                    },
                    "timeline": [
                        {"t": 0, "rps": 49, "p50_ms": 12.0, "p99_ms": 51.0, "failures": 0}
                    ],
                    "users": 13,
                    "target": "http",
                }
            ]
        }
    )

    requests: int = Field(description="Requests sent (failed ones included).")
    failures: StressFailures
    achieved_rps: float = Field(description="Requests per second over the run.")
    target_rps: float | SkipJsonSchema[None] = absent_when_none("`rps` asked for (open loop).")
    duration_s: float = Field(
        description="Same as `measured_window_s` (kept for existing clients)."
    )
    # Optional only for results stored before these were measured; every new run has them.
    requested_duration_s: int | SkipJsonSchema[None] = absent_when_none(
        "`params.duration_s`: Locust's run time, counted from when it starts spawning users."
    )
    measured_window_s: float | SkipJsonSchema[None] = absent_when_none(
        "What the figures cover: from the first request sent to the last answer received "
        "(`achieved_rps` is requests over this window)."
    )
    window_note: str | SkipJsonSchema[None] = absent_when_none(
        "Why the two differ: start-up before the first request, ramp-up while users are "
        "spawned, requests given time to finish at the end; no warm-up is excluded."
    )
    latency_ms: StressLatency
    timeline: list[StressSecond]
    users: int = Field(description="Simulated users (open loop: sized for the target rate).")
    target: Literal["invoke", "http"]
