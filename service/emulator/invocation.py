"""Shared invocation plumbing: FC response headers and asynchronous task execution."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from service.emulator import catalog
from service.emulator.catalog import ASYNC_CONFIG, ASYNC_TASK
from service.emulator.context import Call, Emulator, new_request_id
from service.emulator.errors import FCError, conflict, invalid
from service.emulator.runtime.contract import FunctionSpec, InvokeRequest, InvokeResult
from service.emulator.store import Doc

log = logging.getLogger(__name__)

DEFAULT_ASYNC_RETRIES = 3
TASK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
FINAL_STATES = frozenset({"Succeeded", "Failed", "Stopped", "Invalid", "Expired"})


def result_headers(
    request_id: str, spec: FunctionSpec, target: catalog.Resolved, result: InvokeResult
) -> dict[str, str]:
    headers = {
        "x-fc-request-id": request_id,
        "x-fc-code-checksum": spec.code_checksum,
        "x-fc-instance-id": result.instance_id,
        "x-fc-invocation-duration": str(round(result.duration_ms)),
        "x-fc-max-memory-usage": f"{result.max_memory_mb:.2f}",
        "x-fc-invocation-service-version": target.served_as,
    }
    if result.error_type:
        headers["x-fc-error-type"] = result.error_type
    return headers


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event(status: str, detail: str = "") -> dict[str, Any]:
    stamp = _now_ms()
    return {"eventId": stamp, "status": status, "timestamp": stamp, "eventDetail": detail}


def async_config(emu: Emulator, name: str, qualifier: str) -> Doc:
    return (
        emu.store.get(ASYNC_CONFIG, name, qualifier)
        or emu.store.get(ASYNC_CONFIG, name, "LATEST")
        or {}
    )


async def invoke_async(call: Call, target: catalog.Resolved, spec: FunctionSpec) -> str:
    emu = call.emu
    task_id = call.headers.get("x-fc-async-task-id") or uuid.uuid4().hex
    if not TASK_ID_RE.match(task_id):
        raise invalid("x-fc-async-task-id must be 1-128 letters, digits, '_' or '-'")
    doc: Doc = {
        "taskId": task_id,
        "requestId": call.request_id,
        "functionArn": emu.function_arn(target.name),
        "qualifier": target.qualifier,
        "status": "Enqueued",
        "startedTime": _now_ms(),
        "alreadyRetriedTimes": 0,
        "destinationStatus": "",
        "taskPayload": call.body.decode("utf-8", "replace"),
        "events": [_event("Enqueued")],
    }
    if not emu.store.insert(ASYNC_TASK, target.name, task_id, doc):
        raise conflict("AsyncTaskAlreadyExists", f"async task '{task_id}' already exists.")
    cfg = async_config(emu, target.name, target.qualifier)
    retries = int(cfg.get("maxAsyncRetryAttempts", DEFAULT_ASYNC_RETRIES))
    task = asyncio.create_task(_run_task(emu, spec, target.name, task_id, call.body, retries))
    emu.async_tasks[(target.name, task_id)] = task
    task.add_done_callback(lambda _t: emu.async_tasks.pop((target.name, task_id), None))
    return task_id


def _update(emu: Emulator, name: str, task_id: str, **changes: Any) -> Doc | None:
    with emu.store.tx():
        doc = emu.store.get(ASYNC_TASK, name, task_id)
        if doc is None or doc["status"] in FINAL_STATES:
            return None
        event = changes.pop("event", None)
        doc.update(changes)
        if event:
            doc["events"].append(event)
        emu.store.put(ASYNC_TASK, name, task_id, doc)
        return doc


async def _run_task(
    emu: Emulator, spec: FunctionSpec, name: str, task_id: str, payload: bytes, retries: int
) -> None:
    attempt = 0
    started = time.monotonic()
    while True:
        request_id = new_request_id() if attempt else None
        status = "Running" if attempt == 0 else "Retrying"
        doc = _update(
            emu, name, task_id, status=status, alreadyRetriedTimes=attempt, event=_event(status)
        )
        if doc is None:
            return
        rid: str = request_id or doc["requestId"]
        request = InvokeRequest(rid, payload)
        error: str | None = None
        result: InvokeResult | None = None
        try:
            result = await emu.execute(
                spec,
                rid,
                lambda: emu.runtime.invoke(spec, request),  # noqa: B023 - awaited at once
            )
            if result.error_type:
                error = result.body.decode("utf-8", "replace")[:4096]
        except FCError as exc:
            error = f"{exc.code}: {exc.message}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the runtime failed; the task fails, the emulator keeps going
            log.exception("async task %s failed in the runtime", task_id)
            error = f"InternalServerError: {exc}"
        if error is None or attempt >= retries:
            final = "Succeeded" if error is None else "Failed"
            _update(
                emu,
                name,
                task_id,
                status=final,
                endTime=_now_ms(),
                durationMs=round((time.monotonic() - started) * 1000),
                instanceId=result.instance_id if result else "",
                returnPayload=result.body.decode("utf-8", "replace")[:1048576] if result else "",
                taskErrorMessage=error or "",
                event=_event(final, error or ""),
            )
            return
        attempt += 1
        await asyncio.sleep(min(emu.settings.max_async_retry_backoff_s, 0.1 * 2**attempt))


def stop_task(emu: Emulator, name: str, task_id: str) -> None:
    doc = emu.store.get(ASYNC_TASK, name, task_id)
    if doc is None:
        raise FCError(404, "AsyncTaskNotFound", f"async task '{task_id}' does not exist.")
    if doc["status"] in FINAL_STATES:
        raise invalid(f"async task '{task_id}' already finished ({doc['status']})")
    task = emu.async_tasks.pop((name, task_id), None)
    if task is not None:
        task.cancel()
    _update(emu, name, task_id, status="Stopped", endTime=_now_ms(), event=_event("Stopped"))


def fail_orphaned_tasks(emu: Emulator) -> None:
    """Tasks left running by a previous emulator process cannot finish: mark them failed."""
    for name, task_id, doc in emu.store.list(ASYNC_TASK):
        if doc["status"] not in FINAL_STATES:
            _update(
                emu,
                name,
                task_id,
                status="Failed",
                endTime=_now_ms(),
                taskErrorMessage="the emulator restarted while the task was running",
                event=_event("Failed", "emulator restarted"),
            )


def invoke_in_background(
    emu: Emulator, name: str, qualifier: str, payload: bytes, *, trigger_name: str
) -> str:
    """An asynchronous invocation an event source makes (a timer): retried as async invocations
    are, recorded in the logs under ``trigger_name``, but without an async-task record.

    Returns the first attempt's request id; FCError if the qualifier cannot be resolved.
    """
    target = catalog.resolve(emu, name, qualifier)
    spec = catalog.build_spec(emu, target)
    request_id = new_request_id()
    cfg = async_config(emu, target.name, target.qualifier)
    retries = int(cfg.get("maxAsyncRetryAttempts", DEFAULT_ASYNC_RETRIES))
    task = asyncio.create_task(_run_event(emu, spec, request_id, payload, retries, trigger_name))
    # Registered with the async tasks so that shutdown and reset stop it too.
    key = (target.name, f"{trigger_name}:{request_id}")
    emu.async_tasks[key] = task
    task.add_done_callback(lambda _t: emu.async_tasks.pop(key, None))
    return request_id


async def _run_event(
    emu: Emulator,
    spec: FunctionSpec,
    first_request_id: str,
    payload: bytes,
    retries: int,
    trigger_name: str,
) -> None:
    for attempt in range(retries + 1):
        rid = first_request_id if attempt == 0 else new_request_id()
        request = InvokeRequest(rid, payload)
        try:
            result = await emu.execute(
                spec,
                rid,
                lambda: emu.runtime.invoke(spec, request),  # noqa: B023 - awaited at once
                trigger_name=trigger_name,
            )
            if result.error_type is None:
                return
        except FCError as exc:
            log.warning("%s invocation of %s failed: %s", trigger_name, spec.name, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception:  # the runtime failed; the emulator keeps going
            log.exception("%s invocation of %s failed in the runtime", trigger_name, spec.name)
        if attempt < retries:
            await asyncio.sleep(min(emu.settings.max_async_retry_backoff_s, 0.2 * 2**attempt))
