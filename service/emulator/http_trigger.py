"""Serving HTTP triggers at ``/_trigger/<function>/<trigger>/<path...>`` on the emulator's port.

A path-routed scheme works with any plain HTTP client on loopback (no DNS or
Host tricks). ``authType: function`` requires an ACS3-HMAC-SHA256 signature
over the full request path, exactly as the SDK signs API calls.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import TRIGGER
from service.emulator.context import Emulator
from service.emulator.errors import FCError
from service.emulator.invocation import result_headers
from service.emulator.runtime.contract import HttpRequest
from service.emulator.signature import verify

PREFIX = "/_trigger/"
ACTION = "HttpTrigger"
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def trigger_error(err: FCError, request_id: str) -> Response:
    body = json.dumps({"Code": err.code, "Message": err.message, "RequestId": request_id})
    headers = {"x-fc-request-id": request_id, "x-fc-error-type": "FcCommonError", **err.headers}
    return Response(body, status_code=err.status, headers=headers, media_type="application/json")


def split_trigger_path(raw_path: str) -> tuple[str, str, str]:
    rest = raw_path[len(PREFIX) :]
    parts = rest.split("/", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise FCError(
            404, "TriggerNotFound", "trigger URLs look like /_trigger/<function>/<trigger>/..."
        )
    path = "/" + parts[2] if len(parts) == 3 else "/"
    return unquote(parts[0]), unquote(parts[1]), path


async def serve_trigger(
    emu: Emulator,
    request: Request,
    headers: dict[str, str],
    raw_path: str,
    raw_query: str,
    body: bytes,
    request_id: str,
    function_name: str,
    trigger_name: str,
    sub_path: str,
) -> Response:
    trigger = emu.store.get(TRIGGER, function_name, trigger_name)
    if trigger is None or trigger.get("triggerType") != "http":
        raise FCError(
            404,
            "TriggerNotFound",
            f"http trigger '{trigger_name}' of '{function_name}' does not exist.",
        )
    cfg = json.loads(trigger.get("triggerConfig") or "{}")
    methods = [m.upper() for m in cfg.get("methods") or []]
    if methods and request.method.upper() not in methods:
        raise FCError(
            400, "MethodNotAllowed", f"method {request.method} is not allowed by the trigger"
        )
    if cfg.get("authType", "function") == "function" and emu.settings.access_keys is not None:
        verify(
            method=request.method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            body=body,
            access_keys=emu.settings.access_keys,
        )
    target = catalog.resolve(emu, function_name, trigger.get("qualifier") or "LATEST")
    spec = catalog.build_spec(emu, target)
    client = request.client
    http_request = HttpRequest(
        request_id=request_id,
        method=request.method,
        raw_path=sub_path,
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
        body=body,
        source_ip=client.host if client else "127.0.0.1",
        domain_name=headers.get("host", ""),
    )
    result = await emu.execute(
        spec, request_id, lambda: emu.runtime.invoke_http(spec, http_request)
    )
    fc_headers = result_headers(request_id, spec, target, result)
    response = Response(result.body, status_code=result.status)
    raw = [(k, v) for k, v in response.raw_headers if k == b"content-length"]
    for name, value in result.headers:
        if name.lower() not in _HOP_BY_HOP and name.lower() not in fc_headers:
            raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    raw.extend((k.encode(), v.encode()) for k, v in fc_headers.items())
    response.raw_headers = raw
    return response
