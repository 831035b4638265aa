"""FC's answers in fcplane's words: an invocation's response headers and body, and an
async task as FC's GetAsyncTask/ListAsyncTasks describe it."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any

from service.cloud.client import Invocation
from service.invocations.schemas import AsyncTaskEventOut, AsyncTaskOut

# The summary line FC ends a tail log with:
# "Duration: 3.87 ms, Billed Duration: 4 ms, Memory Size: 128 MB, Max Memory Used: 100.26 MB"
_BILLED = re.compile(r"Billed Duration: (\d+) ms")


def decoded_body(data: bytes) -> dict[str, Any]:
    """The answer as JSON when it parses; otherwise base64, plus text when it is UTF-8."""
    if not data:
        return {"response_format": "empty"}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"response_format": "binary", "response_base64": base64.b64encode(data).decode()}
    try:
        return {"response_format": "json", "response": json.loads(text)}
    except ValueError:
        return {
            "response_format": "text",
            "response_text": text,
            "response_base64": base64.b64encode(data).decode(),
        }


def log_tail(headers: dict[str, str]) -> str | None:
    encoded = headers.get("x-fc-log-result")
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None  # FC sent something else; the answer itself is still good


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def figures(result: Invocation) -> dict[str, Any]:
    """Duration, memory, instance and log tail, from FC's x-fc-* response headers."""
    headers = result.headers
    log = log_tail(headers)
    billed = _BILLED.findall(log or "")
    return {
        "served_version": headers.get("x-fc-invocation-service-version"),
        "function_error": result.error_type,
        "duration_ms": _number(headers.get("x-fc-invocation-duration")),
        "billed_duration_ms": int(billed[-1]) if billed else None,
        "max_memory_mb": _number(headers.get("x-fc-max-memory-usage")),
        "instance_id": headers.get("x-fc-instance-id"),
        "code_checksum": headers.get("x-fc-code-checksum"),
        "log": log,
    }


def _time(ms: Any) -> datetime | None:
    if not isinstance(ms, int | float) or isinstance(ms, bool) or ms <= 0:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def async_task(body: dict[str, Any]) -> AsyncTaskOut:
    """One task from FC's AsyncTask model (wire names)."""
    events = [
        AsyncTaskEventOut(
            status=str(event.get("status") or ""),
            at=_time(event.get("timestamp")),
            detail=_text(event.get("eventDetail")),
        )
        for event in body.get("events") or []
        if isinstance(event, dict)
    ]
    retried = body.get("alreadyRetriedTimes")
    duration = body.get("durationMs")
    return AsyncTaskOut(
        task_id=str(body.get("taskId") or ""),
        status=str(body.get("status") or ""),
        qualifier=_text(body.get("qualifier")),
        fc_request_id=_text(body.get("requestId")),
        started_at=_time(body.get("startedTime")),
        ended_at=_time(body.get("endTime")),
        duration_ms=int(duration) if isinstance(duration, int | float) else None,
        retried_times=int(retried) if isinstance(retried, int) else None,
        error_message=_text(body.get("taskErrorMessage")),
        instance_id=_text(body.get("instanceId")),
        return_payload=_text(body.get("returnPayload")),
        events=events,
    )
