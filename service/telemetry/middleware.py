"""Telemetry around every request: its id (X-Request-ID) and its metrics.

The order, outermost first: the request id (so that everything inside, including
a 413 from the body limit, logs and answers with it), the request metrics (so
that refused bodies are counted too), then the body limit and the application.
"""

from __future__ import annotations

import inspect
import re
import time
import uuid
from dataclasses import dataclass

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.kit.errors import DomainError
from service.kit.request_id import HEADER
from service.kit.settings import Settings
from service.telemetry.collector import ScrapeCollector
from service.telemetry.metrics import UNMATCHED_ROUTE, Metrics, bind, recording_to
from service.telemetry.router import router as metrics_router

# A client's id is kept when it is 1-64 characters (the width of the columns that
# store it with jobs and webhook events) of letters, digits and . _ : @ + = -,
# starting with a letter or digit; anything else is replaced by a generated one.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,63}")
# Methods outside these are one label value: a client cannot mint series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def valid_request_id(value: str) -> bool:
    return REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Telemetry:
    """What an app with metrics keeps in ``app.state.telemetry``."""

    metrics: Metrics
    collector: ScrapeCollector


class RequestMetrics:
    """Counts and times each HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers if the application raises before a response

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            with recording_to(self.metrics):
                await self.app(scope, receive, noting_status)
        finally:
            # The router put the matched route in the scope: its template, never the
            # raw path (one series per function name would be unbounded).
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.observe_request(method, route, status, time.perf_counter() - started)


def _count_conflicts(app: FastAPI, metrics: Metrics) -> None:
    """Count every 409 by its problem code, on its way through the one DomainError handler."""
    render = app.exception_handlers[DomainError]

    async def counted(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DomainError) and exc.status == 409:
            metrics.conflicts.labels(exc.code).inc()
        answer = render(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.exception_handlers[DomainError] = counted


def install_telemetry(app: FastAPI, settings: Settings) -> None:
    """Request ids always; with FCPLANE_METRICS_ENABLED (default), request metrics,
    conflict counts and GET /metrics. Call after the error handlers and the body
    limit are installed: what is added here wraps them."""
    if settings.metrics_enabled:
        metrics = Metrics()
        collector = ScrapeCollector()
        metrics.registry.register(collector)
        app.state.telemetry = Telemetry(metrics, collector)
        _count_conflicts(app, metrics)
        app.add_middleware(RequestMetrics, metrics=metrics)
        app.include_router(metrics_router)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=HEADER,
        generator=new_request_id,
        validator=valid_request_id,
    )


def bind_app_metrics(app: FastAPI) -> None:
    """Make the lifespan's background work (in-process jobs, drift scans, webhook
    deliveries) record to this app's metrics; call before starting it."""
    telemetry: Telemetry | None = getattr(app.state, "telemetry", None)
    if telemetry is not None:
        bind(telemetry.metrics)
