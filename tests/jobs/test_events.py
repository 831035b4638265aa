"""The event stream's framing: ids, Last-Event-ID, heartbeats, the closing event."""

from __future__ import annotations

from typing import Any

from service.jobs import events
from tests.jobs.test_live_progress import _sse


def _state(status: str, progress: float, requests: int) -> dict[str, Any]:
    return {
        "status": status,
        "progress": progress,
        "progress_note": "load running",
        "live": {"requests": requests},
    }


async def _collect(first: dict[str, Any], later: list[dict[str, Any]], last: str | None) -> str:
    rest = iter(later)

    async def snapshot() -> dict[str, Any] | None:
        return next(rest, None)

    chunks = [c async for c in events.stream("j1", first, snapshot, last, poll_seconds=0)]
    return "".join(chunks)


async def test_progress_until_finished_with_ids() -> None:
    running = _state("running", 0.1, 10)
    text = await _collect(
        running,
        [running, _state("running", 0.5, 50), _state("succeeded", 1.0, 99)],
        None,
    )
    parsed = _sse(text)
    assert [name for name, _ in parsed] == ["progress", "progress", "finished"]
    assert [data["live"]["requests"] for _, data in parsed] == [10, 50, 99]
    assert all(data["id"] == "j1" for _, data in parsed)
    ids = [line[4:] for line in text.splitlines() if line.startswith("id: ")]
    assert len(set(ids)) == 3
    # Reconnecting with the id of the first event skips it (the client has that state).
    again = await _collect(
        running, [_state("running", 0.5, 50), _state("succeeded", 1.0, 99)], ids[0]
    )
    assert [d["live"]["requests"] for _, d in _sse(again)] == [50, 99]


async def test_a_quiet_stream_sends_heartbeats(monkeypatch: Any) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.0)
    running = _state("running", 0.1, 10)
    text = await _collect(running, [running, running], None)
    assert text.count(": keep-alive") == 2
    assert [name for name, _ in _sse(text)] == ["progress"]  # the job vanished: stream ends
