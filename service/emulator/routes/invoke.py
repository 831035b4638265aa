"""InvokeFunction: synchronous (with Tail logs) and asynchronous (202 + task id)."""

from __future__ import annotations

import base64

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.context import Call
from service.emulator.errors import invalid
from service.emulator.invocation import invoke_async, result_headers
from service.emulator.router import API
from service.emulator.runtime.contract import InvokeRequest

_TAIL_BYTES = 4096


@API.route("POST", "/2023-03-30/functions/{functionName}/invocations", "InvokeFunction")
async def invoke_function(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    invocation_type = call.headers.get("x-fc-invocation-type", "Sync") or "Sync"
    if invocation_type not in ("Sync", "Async"):
        raise invalid("x-fc-invocation-type must be Sync or Async")
    log_type = call.headers.get("x-fc-log-type", "None") or "None"
    if log_type not in ("None", "Tail"):
        raise invalid("x-fc-log-type must be None or Tail")
    target = catalog.resolve(emu, name, call.query.get("qualifier"))
    spec = catalog.build_spec(emu, target)
    if invocation_type == "Async":
        task_id = await invoke_async(call, target, spec)
        return Response(
            b"",
            status_code=202,
            headers={"x-fc-request-id": call.request_id, "x-fc-async-task-id": task_id},
        )
    request = InvokeRequest(call.request_id, call.body, log_tail=log_type == "Tail")
    result = await emu.execute(spec, call.request_id, lambda: emu.runtime.invoke(spec, request))
    headers = result_headers(call.request_id, spec, target, result)
    if log_type == "Tail":
        headers["x-fc-log-result"] = base64.b64encode(result.log[-_TAIL_BYTES:]).decode()
    content_type = next(
        (v for k, v in result.headers if k.lower() == "content-type"), "application/octet-stream"
    )
    headers["content-type"] = content_type
    return Response(result.body, status_code=result.status, headers=headers)
