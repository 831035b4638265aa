"""The emulator as a plain ASGI app: FC API, HTTP triggers, code downloads and admin API.

It is deliberately not a FastAPI app: it must never appear in fcplane's own
OpenAPI, and routing happens on the raw path (see router.py).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.emulator import admin, cms, domain_routing, http_trigger, routes, sls
from service.emulator.catalog import PROVISION
from service.emulator.context import Call, Emulator, new_request_id
from service.emulator.errors import FCError, error_response
from service.emulator.invocation import fail_orphaned_tasks
from service.emulator.router import API
from service.emulator.routes.configs import apply_provision
from service.emulator.runtime.contract import (
    FunctionSpec,
    HttpRequest,
    InstanceInfo,
    InvokeRequest,
    InvokeResult,
    Runtime,
)
from service.emulator.settings import EmulatorSettings
from service.emulator.signature import verify
from service.emulator.store import Doc
from service.emulator.timers import TimerScheduler

log = logging.getLogger(__name__)
_ = routes  # importing the package registers every API route
_CODE_RE = re.compile(r"^/_code/([0-9a-f]{64})\.zip$")
RUNTIME_CLASS = "service.emulator.runtime.manager:ProcessRuntime"


class UnavailableRuntime:
    """Stands in when the process runtime cannot be loaded: every invoke says so."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _fail(self) -> FCError:
        return FCError(
            503, "RuntimeUnavailable", f"the emulator runtime is not available: {self.reason}"
        )

    async def invoke(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult:
        raise self._fail()

    async def invoke_http(self, spec: FunctionSpec, request: HttpRequest) -> InvokeResult:
        raise self._fail()

    async def set_provisioned(self, spec: FunctionSpec, target: int) -> None:
        return None

    def instances(self, function_name: str | None = None) -> list[InstanceInfo]:
        return []

    async def drop_function(self, function_name: str) -> None:
        return None

    def limits_mechanism(self) -> dict[str, str]:
        return {"runtime": f"unavailable: {self.reason}"}

    def sandbox_status(self) -> dict[str, object]:
        return {"enabled": False, "mode": "unavailable", "detail": self.reason}

    async def close(self) -> None:
        return None


def load_runtime(settings: EmulatorSettings) -> Runtime:
    module_name, _, class_name = RUNTIME_CLASS.partition(":")
    try:
        cls: Any = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        return UnavailableRuntime(f"{RUNTIME_CLASS} cannot be imported ({exc})")
    runtime: Runtime = cls(
        settings.data_dir,
        settings.account_instance_limit,
        settings.idle_timeout_s,
        unsafe_no_sandbox=settings.unsafe_no_sandbox,
        custom_startup_timeout_s=settings.custom_runtime_startup_timeout_s,
    )
    return runtime


class EmulatorApp:
    def __init__(self, settings: EmulatorSettings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self._given_runtime = runtime
        self.emu = Emulator(settings, runtime or UnavailableRuntime("not started yet"))
        limits = settings.code_limits
        self.max_body = limits.max_zip_bytes * 4 // 3 + 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            response = await self._handle(Request(scope, receive))
            await response(scope, receive, send)

    async def startup(self) -> None:
        if self._given_runtime is None:
            self.emu.runtime = load_runtime(self.settings)
        fail_orphaned_tasks(self.emu)
        self.emu.timers = TimerScheduler(self.emu)
        self.emu.timers.start()
        for name, qualifier, doc in self.emu.store.list(PROVISION):
            try:
                await apply_provision(self.emu, name, qualifier, int(doc["target"]))
            except Exception:
                log.exception("could not restore provisioned instances of %s/%s", name, qualifier)

    async def shutdown(self) -> None:
        if self.emu.timers is not None:
            await self.emu.timers.stop()
        tasks = list(self.emu.async_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.emu.runtime.close()
        self.emu.store.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("emulator startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, request: Request) -> bytes:
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise FCError(413, "EntityTooLarge", f"request body exceeds {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _handle(self, request: Request) -> Response:
        request_id = new_request_id()
        scope = request.scope
        raw_path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        try:
            body = await self._read_body(request)
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            domain = domain_routing.find_domain(self.emu, headers.get("host", ""))
            if domain is not None:
                incoming = http_trigger.Incoming(
                    request, headers, raw_path, raw_query, body, request_id
                )
                return await self._domain(incoming, domain)
            if raw_path.startswith(admin.PREFIX):
                admin.authorize(self.settings, request.method, raw_path, raw_query, headers, body)
                query = dict(parse_qsl(raw_query, keep_blank_values=True))
                return await admin.handle_admin(self.emu, request.method, raw_path, query, body)
            if raw_path.startswith(http_trigger.PREFIX):
                incoming = http_trigger.Incoming(
                    request, headers, raw_path, raw_query, body, request_id
                )
                return await self._trigger(incoming)
            if sls.handles(raw_path):
                return await sls.serve(self.emu, request.method, raw_path, raw_query, headers, body)
            if cms.is_cms_request(request.method, raw_path, raw_query, headers):
                return await cms.handle(
                    self.emu, request.method, raw_query, headers, body, request_id
                )
            code = _CODE_RE.match(raw_path)
            if code and request.method == "GET":
                return self._code(code.group(1))
            return await self._api(request, headers, raw_path, raw_query, body, request_id)
        except FCError as err:
            return error_response(err, request_id)
        except Exception as exc:
            log.exception("emulator request %s %s failed", request.method, raw_path)
            return error_response(
                FCError(500, "InternalServerError", f"{type(exc).__name__}: {exc}"), request_id
            )

    async def _faults(self, action: str, function_name: str | None) -> None:
        hit = self.emu.faults.take(action, function_name)
        if hit is None:
            return
        if hit.latency_s:
            await asyncio.sleep(hit.latency_s)
        if hit.error is not None:
            raise hit.error

    async def _api(
        self,
        request: Request,
        headers: dict[str, str],
        raw_path: str,
        raw_query: str,
        body: bytes,
        request_id: str,
    ) -> Response:
        matched = API.match(request.method, raw_path)
        if matched is None:
            if API.knows_path(raw_path):
                raise FCError(
                    405, "MethodNotAllowed", f"{request.method} is not allowed on {raw_path}"
                )
            raise FCError(404, "PathNotSupported", f"{request.method} {raw_path} is not supported")
        route, params = matched
        if self.settings.access_keys is not None:
            verify(
                method=request.method,
                raw_path=raw_path,
                raw_query=raw_query,
                headers=headers,
                body=body,
                access_keys=self.settings.access_keys,
                temporary=True,  # a function's role credentials may call FC's API
            )
        call = Call(
            emu=self.emu,
            request=request,
            params=params,
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            body=body,
            request_id=request_id,
            action=route.action,
            headers=headers,
        )
        function_name = params.get("functionName")
        if function_name is None and route.function_of is not None:
            function_name = route.function_of(call)
        await self._faults(route.action, function_name)
        return await route.handler(call)

    async def _trigger(self, incoming: http_trigger.Incoming) -> Response:
        try:
            fn, trigger, sub_path = http_trigger.split_trigger_path(incoming.raw_path)
            await self._faults(http_trigger.ACTION, fn)
            return await http_trigger.serve_trigger(self.emu, incoming, fn, trigger, sub_path)
        except FCError as err:
            return http_trigger.trigger_error(err, incoming.request_id)

    async def _domain(self, incoming: http_trigger.Incoming, domain: Doc) -> Response:
        async def faults(function_name: str) -> None:
            await self._faults(http_trigger.ACTION, function_name)

        try:
            return await domain_routing.serve_domain(self.emu, incoming, domain, faults)
        except FCError as err:
            return http_trigger.trigger_error(err, incoming.request_id)

    def _code(self, sha256: str) -> Response:
        try:
            data = self.emu.store.blobs.read(sha256)
        except FileNotFoundError:
            raise FCError(404, "NotFound", "no such code package") from None
        return Response(data, media_type="application/zip")


def create_emulator_app(settings: EmulatorSettings, runtime: Runtime | None = None) -> EmulatorApp:
    return EmulatorApp(settings, runtime)
