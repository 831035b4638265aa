"""Serving HTTP triggers at ``/_trigger/<function>/<trigger>/<path...>`` on the emulator's port.

A path-routed scheme works with any plain HTTP client on loopback (no DNS or
Host tricks). ``authType: function`` requires an ACS3-HMAC-SHA256 signature
over the full request path, exactly as the SDK signs API calls; ``authType:
jwt`` a token the trigger's JWKS verifies (jwt_auth.py). Custom domains
(domain_routing.py) end up in ``serve_http`` too, with the route's path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import TRIGGER
from service.emulator.context import Emulator
from service.emulator.errors import FCError
from service.emulator.http_auth import HttpAuth, trigger_auth
from service.emulator.invocation import result_headers
from service.emulator.jwt_auth import HttpParts, authenticate
from service.emulator.runtime.contract import HttpRequest
from service.emulator.signature import verify
from service.emulator.store import Doc
from service.emulator.trigger_config import parse_trigger_config

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


@dataclass(frozen=True)
class Incoming:
    """One request on the emulator's port, as it arrived (trigger URL or custom domain)."""

    request: Request
    headers: dict[str, str]  # lower-cased names
    raw_path: str
    raw_query: str
    body: bytes
    request_id: str

    @property
    def request_headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.request.scope["headers"])

    def parts(self, path: str) -> HttpParts:
        """The mutable view auth and claim pass-by work on, for the function path ``path``."""
        return HttpParts(
            path=path,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.request_headers],
            query=parse_qsl(self.raw_query, keep_blank_values=True),
            body=self.body,
        )


def check_auth(emu: Emulator, incoming: Incoming, auth: HttpAuth, parts: HttpParts) -> None:
    """Enforce an HTTP trigger's (or a custom domain's) authType on a request."""
    if auth.auth_type == "function" and emu.settings.access_keys is not None:
        verify(
            method=incoming.request.method,
            raw_path=incoming.raw_path,
            raw_query=incoming.raw_query,
            headers=incoming.headers,
            body=incoming.body,
            access_keys=emu.settings.access_keys,
        )
    elif auth.jwt is not None:
        authenticate(auth.jwt, parts)


def http_trigger_doc(emu: Emulator, function_name: str, trigger_name: str) -> Doc:
    trigger = emu.store.get(TRIGGER, function_name, trigger_name)
    if trigger is None or trigger.get("triggerType") != "http":
        raise FCError(
            404,
            "TriggerNotFound",
            f"http trigger '{trigger_name}' of '{function_name}' does not exist.",
        )
    return trigger


async def serve_trigger(
    emu: Emulator, incoming: Incoming, function_name: str, trigger_name: str, sub_path: str
) -> Response:
    """A request to ``/_trigger/<function>/<trigger>/<sub_path>``."""
    trigger = http_trigger_doc(emu, function_name, trigger_name)
    return await serve_http(
        emu, incoming, incoming.parts(sub_path), function_name, trigger_name, trigger
    )


async def serve_http(
    emu: Emulator,
    incoming: Incoming,
    parts: HttpParts,
    function_name: str,
    trigger_name: str,
    trigger: Doc,
) -> Response:
    """Run a request through an HTTP trigger: methods, auth, then the function.

    ``parts.path`` is the (URL-encoded) path the function sees.
    """
    cfg = parse_trigger_config(trigger.get("triggerConfig") or "")
    methods = [m.upper() for m in cfg.get("methods") or []]
    method = incoming.request.method
    if methods and method.upper() not in methods:
        raise FCError(400, "MethodNotAllowed", f"method {method} is not allowed by the trigger")
    check_auth(emu, incoming, trigger_auth(cfg), parts)
    target = catalog.resolve(emu, function_name, trigger.get("qualifier") or "LATEST")
    spec = catalog.build_spec(emu, target)
    client = incoming.request.client
    http_request = HttpRequest(
        request_id=incoming.request_id,
        method=method,
        raw_path=parts.path,
        query=parts.query,
        headers=parts.headers,
        body=parts.body,
        source_ip=client.host if client else "127.0.0.1",
        domain_name=incoming.headers.get("host", ""),
    )
    result = await emu.execute(
        spec,
        incoming.request_id,
        lambda: emu.runtime.invoke_http(spec, http_request),
        trigger_name=trigger_name,
    )
    fc_headers = result_headers(incoming.request_id, spec, target, result)
    response = Response(result.body, status_code=result.status)
    raw = [(k, v) for k, v in response.raw_headers if k == b"content-length"]
    for name, value in result.headers:
        if name.lower() not in _HOP_BY_HOP and name.lower() not in fc_headers:
            raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    raw.extend((k.encode(), v.encode()) for k, v in fc_headers.items())
    response.raw_headers = raw
    return response
