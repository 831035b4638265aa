"""The metric objects of one app, and how code anywhere in its work records to them.

Each app (``create_app``) has its own ``CollectorRegistry``, so two apps in one
process (tests, benchmarks) never share a counter. Code that records a fact (a
deploy's outcome, an FC call's latency, a webhook attempt) calls the functions
below; they record to the metrics of the app whose request or background task is
running, found through a context variable that the request middleware and the
app's lifespan set (tasks inherit it). Elsewhere (an arq worker, the CLI) they do
nothing: those processes serve no /metrics.

Counters and histograms count what THIS process did; with several API replicas,
sum them over replicas. The gauges read from the database at scrape time are
global (see collector.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# Latency buckets (seconds): API requests are milliseconds to a deploy's seconds;
# FC calls include code uploads and cold starts.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FC_CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# The route label of a request no route matched (scanners, typos): one series, not one
# per path.
UNMATCHED_ROUTE = "unmatched"
FC_CALL_OK = "ok"

# The `*_created` series (a timestamp per label set) double the page for nothing a
# dashboard uses; fcplane is the only user of prometheus-client in its process.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every counter and histogram of one app, in the app's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "fcplane_http_requests",
            "HTTP requests answered by this process, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.request_seconds = Histogram(
            "fcplane_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route "
            "template and status (this process).",
            ("method", "route", "status"),
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.deploys = Counter(
            "fcplane_deploys",
            "Deployments that reached an outcome in this process, by kind (deploy, apply, "
            "rollback) and outcome (succeeded, failed, conflict).",
            ("kind", "outcome"),
            registry=registry,
        )
        self.conflicts = Counter(
            "fcplane_conflicts",
            "409 answers of this process, by problem code (revision_conflict, drift_conflict, "
            "already_exists, ...).",
            ("code",),
            registry=registry,
        )
        self.webhook_attempts = Counter(
            "fcplane_webhook_delivery_attempts",
            "Webhook delivery attempts made by this process, by outcome (delivered; retry, "
            "failed and disabled are failures). With Redis, workers deliver and count them.",
            ("outcome",),
            registry=registry,
        )
        self.fc_calls = Histogram(
            "fcplane_fc_call_duration_seconds",
            "Function Compute API calls made by this process (each attempt), by operation "
            "and outcome (ok, or the problem code such as fc_throttled).",
            ("operation", "outcome"),
            buckets=FC_CALL_BUCKETS,
            registry=registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(method, route, code).inc()
        self.request_seconds.labels(method, route, code).observe(seconds)


_current: ContextVar[Metrics | None] = ContextVar("fcplane_metrics", default=None)


@contextmanager
def recording_to(metrics: Metrics) -> Iterator[None]:
    """Record to ``metrics`` within this block (and the tasks started in it)."""
    token = _current.set(metrics)
    try:
        yield
    finally:
        _current.reset(token)


def bind(metrics: Metrics) -> None:
    """Record to ``metrics`` from here on in this context (a lifespan, before its tasks)."""
    _current.set(metrics)


def count_deploy(kind: str, outcome: str) -> None:
    if (metrics := _current.get()) is not None:
        metrics.deploys.labels(kind, outcome).inc()


def count_webhook_attempt(outcome: str) -> None:
    if (metrics := _current.get()) is not None:
        metrics.webhook_attempts.labels(outcome).inc()


def observe_fc_call(operation: str, outcome: str, seconds: float) -> None:
    if (metrics := _current.get()) is not None:
        metrics.fc_calls.labels(operation, outcome).observe(seconds)
