"""Follow mode: a function's new log lines as server-sent events, polled from SLS.

The stream opens with the newest ``limit`` lines of the window, then asks SLS
every ``POLL_S`` for what arrived since the newest line seen. SLS indexes lines
a few seconds after they are written and ``__time__`` has whole seconds, so
each poll re-reads the last ``LAG_S`` seconds and drops the lines it already
sent (counting identical lines, so a line logged twice is sent twice).

Frames: ``event: log`` with a :class:`LogLine` as JSON; a comment line as a
heartbeat every ``HEARTBEAT_S`` of silence (proxies keep the connection); one
``event: error`` with a problem document when SLS fails, then the end; and
``event: end`` after ``MAX_FOLLOW_S``. No database session is held: the stream
only talks to SLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.kit.errors import DomainError, problem_body
from service.logs.gateway import RawLog
from service.logs.service import LogService, Target, line_of

POLL_S = 1.5
LAG_S = 10
HEARTBEAT_S = 15.0
# Bounded so that a stream never holds a server's graceful shutdown for long (uvicorn
# waits for open responses); clients reconnect from the newest line (`fcplane logs -f`).
MAX_FOLLOW_S = 300.0
POLL_LIMIT = 1000  # lines per poll; a function logging more per poll is shown in part


def frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class Seen:
    """The items already sent, by key, from ``LAG_S`` before the newest one on."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[Any, ...]] = Counter()
        self.newest = 0

    def fresh(self, batch: list[RawLog]) -> list[RawLog]:
        here: Counter[tuple[Any, ...]] = Counter()
        out: list[RawLog] = []
        for item in batch:
            here[item.key] += 1
            if here[item.key] > self.counts[item.key]:
                out.append(item)
        for key, count in here.items():
            self.counts[key] = max(self.counts[key], count)
        self.newest = max([self.newest, *(item.time for item in batch)])
        floor = self.newest - LAG_S
        for key in [k for k in self.counts if k[0] < floor]:
            del self.counts[key]
        return out


async def follow(
    logs: LogService,
    target: Target,
    from_s: int,
    query: str,
    limit: int,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """The event stream; ends when the client goes, SLS fails or MAX_FOLLOW_S passes."""
    yield f": following {target.topic} in {target.store.project}/{target.store.logstore}\n\n"
    seen = Seen()
    started = last_sent = time.monotonic()
    first = True
    while time.monotonic() - started < MAX_FOLLOW_S:
        if await disconnected():
            return
        to_s = int(time.time()) + 1
        try:
            if first:
                batch = await logs.fetch(target, from_s, to_s, query, limit, newest=True)
                batch.reverse()
            else:
                since = max(from_s, seen.newest - LAG_S)
                batch = await logs.fetch(target, since, to_s, query, POLL_LIMIT, newest=False)
        except DomainError as err:
            body = problem_body(err.status, err.code, err.title, err.detail, **err.extra)
            yield frame("error", body)
            return
        first = False
        for item in seen.fresh(batch):
            yield frame("log", line_of(item).model_dump(mode="json"))
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(POLL_S)
    yield frame("end", {"reason": f"followed for {MAX_FOLLOW_S:.0f} s; reconnect to go on"})
