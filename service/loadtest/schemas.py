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


class StressPhase(BaseModel):
    """One phase of the run: figures of the requests that finished within it."""

    from_s: float = Field(description="Start, in seconds since the first request.")
    to_s: float = Field(description="End, in seconds since the first request.")
    requests: int
    failures: int
    rps: float = Field(description="Requests per second within the phase.")
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class StressPhases(BaseModel):
    """Warm-up (the first, partial second; ramp-up while users are spawned; until the last
    instance started during the run first answered; at most half the window), the steady
    state after it, and the whole run."""

    warm_up: StressPhase
    steady: StressPhase
    overall: StressPhase


class StressHeadline(BaseModel):
    """The figures to quote: the steady state's (the whole run's when the steady state has
    no requests, e.g. a very short run)."""

    phase: Literal["steady", "overall"]
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p99_ms: float | None


class StressLive(BaseModel):
    """A running stress job's figures (`live` of GET /v1/jobs/{id}), refreshed about every
    second: totals so far, and the last complete second's rate and latencies."""

    requests: int = Field(description="Requests finished so far.")
    failures: int = Field(description="Failed requests so far.")
    current_rps: float = Field(description="Requests finished in the last complete second.")
    average_rps: float = Field(description="Requests per second since the first request.")
    p50_ms: float | None = Field(description="Median latency of the last complete second.")
    p99_ms: float | None = Field(description="p99 latency of the last complete second.")
    users: int = Field(description="Simulated users running.")
    elapsed_s: float = Field(description="Seconds since the first request.")


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
                    "sent, and the window ends at the last answer. The overall figures count "
                    "every request; `phases` separates the warm-up from the steady state, which "
                    "`headline` reports.",
                    "latency_ms": {
                        "p50": 12.1,
                        "p90": 20.4,
                        "p99": 48.0,
                        "p999": 880.0,
                        "max": 950.0,
                    },
                    "timeline": [
                        {"t": 0, "rps": 49, "p50_ms": 12.0, "p99_ms": 51.0, "failures": 0}
                    ],
                    "users": 13,
                    "target": "http",
                    "phases": {
                        "warm_up": {
                            "from_s": 0.0,
                            "to_s": 1.6,
                            "requests": 62,
                            "failures": 2,
                            "rps": 38.75,
                            "p50_ms": 14.0,
                            "p90_ms": 410.0,
                            "p99_ms": 880.0,
                            "max_ms": 950.0,
                        },
                        "steady": {
                            "from_s": 1.6,
                            "to_s": 29.412,
                            "requests": 1418,
                            "failures": 0,
                            "rps": 50.99,
                            "p50_ms": 12.0,
                            "p90_ms": 19.8,
                            "p99_ms": 41.0,
                            "max_ms": 60.2,
                        },
                        "overall": {
                            "from_s": 0.0,
                            "to_s": 29.412,
                            "requests": 1480,
                            "failures": 2,
                            "rps": 50.32,
                            "p50_ms": 12.1,
                            "p90_ms": 20.4,
                            "p99_ms": 48.0,
                            "max_ms": 950.0,
                        },
                    },
                    "headline": {
                        "phase": "steady",
                        "requests": 1418,
                        "failures": 0,
                        "rps": 50.99,
                        "p50_ms": 12.0,
                        "p99_ms": 41.0,
                    },
                    "cold_starts": 3,
                    "cold_starts_source": "x-fc-instance-id response headers, less the "
                    "instances ListInstances showed before the run",
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
        "spawned, requests given time to finish at the end."
    )
    # Absent from results stored before phases were measured.
    phases: StressPhases | SkipJsonSchema[None] = absent_when_none(
        "Warm-up, steady state and overall figures (overall = `latency_ms`, `achieved_rps`)."
    )
    headline: StressHeadline | SkipJsonSchema[None] = absent_when_none(
        "The steady state's figures: what reports and notifications quote."
    )
    cold_starts: int | None = Field(
        None,
        description="Instances started during the run (null: unknown, see `cold_starts_source`).",
    )
    cold_starts_source: str | SkipJsonSchema[None] = absent_when_none(
        "Where `cold_starts` comes from: FC's x-fc-instance-id response headers, less the "
        "instances listed (ListInstances) before the run."
    )
    phases_note: str | SkipJsonSchema[None] = absent_when_none(
        "Set when the warm-up was cut at half the window (instances kept starting)."
    )
    latency_ms: StressLatency
    timeline: list[StressSecond]
    users: int = Field(description="Simulated users (open loop: sized for the target rate).")
    target: Literal["invoke", "http"]
