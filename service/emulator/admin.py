"""The emulator-only admin API under ``/_emulator/`` (served on the emulator's port).

Every call needs the emulator's own credentials — an ACS3-HMAC-SHA256 signed
request with one of its access keys, or ``Authorization: Bearer <admin bearer>``
(``credentials.admin_bearer``) — unless the emulator runs with ``--no-auth``.
A function's role credentials never open it.

- ``GET  /_emulator/health``
- ``GET  /_emulator/logs?functionName=&requestId=&limit=``
- ``GET  /_emulator/metrics?functionName=``
- ``GET  /_emulator/instances``
- ``GET  /_emulator/timers`` (enabled timer triggers and when each fires next)
- ``GET|POST|DELETE /_emulator/faults``, ``DELETE /_emulator/faults/<id>``
- ``POST /_emulator/reset`` ``{"faults", "metrics", "logs", "state"}`` (booleans)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.responses import Response

from service.emulator.context import Emulator
from service.emulator.credentials import bearer_matches
from service.emulator.errors import FCError, invalid
from service.emulator.settings import EmulatorSettings
from service.emulator.signature import verify

PREFIX = "/_emulator/"


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc), status_code=status, media_type="application/json")


def _body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid(f"request body is not valid JSON: {exc}") from None


def _limit(query: dict[str, str]) -> int:
    raw = query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 5000:
        raise invalid("limit must be an integer between 1 and 5000")
    return int(raw)


def authorize(
    settings: EmulatorSettings,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Raise a 403 FCError unless the request carries the emulator's own credentials."""
    keys = settings.access_keys
    if keys is None:
        return
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        if bearer_matches(keys, token.strip()):
            return
        raise FCError(403, "AccessDenied", "The bearer token is not valid for this emulator.")
    verify(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=headers,
        body=body,
        access_keys=keys,
    )


async def handle_admin(
    emu: Emulator, method: str, path: str, query: dict[str, str], body: bytes
) -> Response:
    route = path[len(PREFIX) :].strip("/")
    if route == "health" and method == "GET":
        try:
            limits: Any = emu.runtime.limits_mechanism()
            sandbox: Any = emu.runtime.sandbox_status()
        except Exception as exc:  # a missing runtime must not break health
            limits = {"error": str(exc)}
            sandbox = {"enabled": False, "mode": "unavailable", "detail": str(exc)}
        return _json(
            {"status": "ok", "auth": emu.auth_enabled, "runtime": limits, "sandbox": sandbox}
        )
    if route == "logs" and method == "GET":
        entries = emu.logs.query(query.get("functionName"), query.get("requestId"), _limit(query))
        return _json({"logs": [e.to_dict() for e in entries]})
    if route == "metrics" and method == "GET":
        return _json({"functions": emu.metrics.snapshot(query.get("functionName"))})
    if route == "instances" and method == "GET":
        return _json(
            {"instances": [asdict(i) for i in emu.runtime.instances(query.get("functionName"))]}
        )
    if route == "timers" and method == "GET":
        return _json({"timers": emu.timers.schedule() if emu.timers else []})
    if route == "faults":
        if method == "GET":
            return _json({"faults": [r.to_dict() for r in emu.faults.rules()]})
        if method == "POST":
            data = _body(body)
            rules = [emu.faults.add(d) for d in (data if isinstance(data, list) else [data])]
            return _json({"faults": [r.to_dict() for r in rules]}, 201)
        if method == "DELETE":
            emu.faults.clear()
            return Response(status_code=204)
    if route.startswith("faults/") and method == "DELETE":
        rule_id = route.split("/", 1)[1]
        if not rule_id.isdigit() or not emu.faults.remove(int(rule_id)):
            raise FCError(404, "FaultNotFound", f"fault {rule_id} does not exist")
        return Response(status_code=204)
    if route == "reset" and method == "POST":
        return await _reset(emu, _body(body))
    raise FCError(404, "PathNotSupported", f"{method} {path} is not an emulator admin endpoint")


async def _reset(emu: Emulator, opts: Any) -> Response:
    if not isinstance(opts, dict) or not all(isinstance(v, bool) for v in opts.values()):
        raise invalid("reset takes an object of booleans: faults, metrics, logs, state")
    unknown = set(opts) - {"faults", "metrics", "logs", "state"}
    if unknown:
        raise invalid(f"unknown reset option(s): {', '.join(sorted(unknown))}")
    done: dict[str, bool] = {}
    if opts.get("faults", True):
        emu.faults.clear()
        done["faults"] = True
    if opts.get("metrics", True):
        emu.metrics.clear()
        done["metrics"] = True
    if opts.get("logs", True):
        emu.logs.clear()
        done["logs"] = True
    if opts.get("state", False):
        names = [k for _, k, _ in emu.store.list("function", "")]
        for task in list(emu.async_tasks.values()):
            task.cancel()
        emu.async_tasks.clear()
        emu.store.wipe()
        emu.triggers_changed()
        for name in names:
            await emu.runtime.drop_function(name)
        done["state"] = True
    return _json({"reset": done})
