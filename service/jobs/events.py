"""GET /v1/jobs/{id}/events: a job's progress as server-sent events.

The stream polls the job's row once a second, each poll a short read of its own (no
database session is held while waiting), and sends ``event: progress`` whenever the
status, progress, note or live figures change, then ``event: finished`` when the job
ends, and closes. Every event carries the job's whole state, so a client that
reconnects loses nothing; its ``id`` is a digest of that state, and a reconnect with
``Last-Event-ID`` skips the state the client already has. A comment line every
HEARTBEAT_SECONDS keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.jobs.schemas import JobStatus

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# A stream ends after this long even if the job has not (the client reconnects).
MAX_STREAM_SECONDS = 3600.0
RETRY_MS = 2000
FINAL = {JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value}

Snapshot = Callable[[], Awaitable[dict[str, Any] | None]]


def _digest(state: dict[str, Any]) -> str:
    raw = json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _event(name: str, state: dict[str, Any], event_id: str) -> str:
    data = json.dumps(state, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n"


async def stream(
    job_id: str,
    first: dict[str, Any],
    snapshot: Snapshot,
    last_event_id: str | None = None,
    *,
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[str]:
    """The event stream of ``job_id``, starting from its state ``first``."""
    yield f"retry: {RETRY_MS}\n\n"
    sent = last_event_id
    quiet_since = started = time.monotonic()
    state: dict[str, Any] | None = first
    while state is not None:
        state = {"id": job_id, **state}
        digest = _digest(state)
        if state["status"] in FINAL:
            yield _event("finished", state, digest)
            return
        now = time.monotonic()
        if digest != sent:
            yield _event("progress", state, digest)
            sent, quiet_since = digest, now
        elif now - quiet_since >= HEARTBEAT_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = now
        if now - started >= MAX_STREAM_SECONDS:
            return
        await asyncio.sleep(poll_seconds)
        state = await snapshot()
