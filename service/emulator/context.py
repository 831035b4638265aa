"""The emulator's shared state and the per-request ``Call`` handed to route handlers."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from service.emulator.errors import FCError, invalid, throttled
from service.emulator.faults import Faults
from service.emulator.observability import FunctionLogs, LogEntry, Metrics
from service.emulator.runtime.contract import FunctionSpec, InvokeResult, Runtime, Throttled
from service.emulator.settings import EmulatorSettings
from service.emulator.store import Store

if TYPE_CHECKING:
    from service.emulator.timers import TimerScheduler

API_VERSION = "2023-03-30"


def new_request_id() -> str:
    """FC 3.0 style: ``1-<hex seconds>-<random>``."""
    rand = os.urandom(12).hex()
    return f"1-{int(time.time()):08x}-{rand[:8]}-{rand[8:]}"


class Emulator:
    def __init__(self, settings: EmulatorSettings, runtime: Runtime) -> None:
        self.settings = settings
        self.store = Store(settings.data_dir)
        self.runtime = runtime
        self.metrics = Metrics()
        self.logs = FunctionLogs()
        self.faults = Faults()
        self.async_tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.timers: TimerScheduler | None = None  # started with the app (timers.py)

    def triggers_changed(self) -> None:
        """Call after any trigger change: timers pick it up at once."""
        if self.timers is not None:
            self.timers.wake()

    @property
    def auth_enabled(self) -> bool:
        return self.settings.access_keys is not None

    def function_arn(self, name: str) -> str:
        s = self.settings
        return f"acs:fc:{s.region}:{s.account_id}:functions/{name}"

    def layer_arn(self, name: str, version: int) -> str:
        s = self.settings
        return f"acs:fc:{s.region}:{s.account_id}:layers/{name}/versions/{version}"

    async def execute(
        self,
        spec: FunctionSpec,
        request_id: str,
        run: Callable[[], Awaitable[InvokeResult]],
        *,
        trigger_name: str | None = None,
    ) -> InvokeResult:
        """Run one invocation, recording metrics and logs; Throttled becomes a 429.

        ``trigger_name`` names the trigger that caused it (HTTP or timer), for the logs.
        """
        try:
            result = await run()
        except Throttled as exc:
            self.metrics.record_throttle(spec.name, spec.qualifier)
            raise throttled(str(exc), exc.retry_after_s) from None
        error = result.error_type is not None or result.status >= 500
        self.metrics.record(
            spec.name,
            duration_ms=result.duration_ms,
            error=error,
            cold_start=result.cold_start,
            qualifier=spec.qualifier,
            instances=len(self.runtime.instances(spec.name)),
        )
        self.logs.add(
            LogEntry(
                request_id=request_id,
                function_name=spec.name,
                qualifier=spec.qualifier,
                timestamp=time.time(),
                status=result.status,
                error_type=result.error_type,
                duration_ms=result.duration_ms,
                instance_id=result.instance_id,
                log=result.log.decode("utf-8", "replace"),
                trigger_name=trigger_name,
            )
        )
        return result


@dataclass
class Call:
    emu: Emulator
    request: Request
    params: dict[str, str]
    query: dict[str, str]
    body: bytes
    request_id: str
    action: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        if self.emu.settings.public_url:
            return self.emu.settings.public_url.rstrip("/")
        host = self.headers.get("host") or "127.0.0.1"
        return f"http://{host}"

    def query_int(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid(f"{name} must be an integer") from None
        if not lo <= value <= hi:
            raise invalid(f"{name} must be between {lo} and {hi}")
        return value


def json_response(doc: Any, request_id: str, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={"x-fc-request-id": request_id},
    )


def no_content(request_id: str) -> Response:
    return Response(b"", status_code=204, headers={"x-fc-request-id": request_id})


def paginate(
    items: list[tuple[str, Any]], call: Call, default_limit: int = 20, max_limit: int = 100
) -> tuple[list[Any], str | None]:
    """Key-ordered ``(key, item)`` pairs into one page and the next page's token."""
    limit = call.query_int("limit", default_limit, 1, max_limit)
    token = call.query.get("nextToken") or ""
    start = [item for key, item in items if key >= token] if token else [i for _, i in items]
    keys = [key for key, _ in items if not token or key >= token]
    page = start[:limit]
    next_token = keys[limit] if len(keys) > limit else None
    return page, next_token


def page_doc(key: str, items: list[Any], next_token: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {key: items}
    if next_token is not None:
        doc["nextToken"] = next_token
    return doc


__all__ = ["Call", "Emulator", "FCError", "json_response", "new_request_id", "no_content"]
