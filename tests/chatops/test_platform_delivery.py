"""Acknowledge first, answer after: a slow command is handed off and still delivered,
a quick one is answered inline and not delivered twice, a failing one still answers."""

from __future__ import annotations

import asyncio

from service.chatops import delivery
from service.chatops.contract import Reply


async def _slow(seconds: float, title: str) -> Reply:
    await asyncio.sleep(seconds)
    return Reply(title=title)


async def _broken() -> Reply:
    raise RuntimeError("boom")


async def test_slow_work_is_acknowledged_then_delivered() -> None:
    sent: list[Reply] = []

    async def send(reply: Reply) -> None:
        sent.append(reply)

    answered = await delivery.respond(_slow(0.3, "slow"), send, inline_seconds=0.02)
    assert answered is None
    assert sent == []
    await delivery.pending()
    assert [r.title for r in sent] == ["slow"]


async def test_quick_work_is_answered_inline_only() -> None:
    sent: list[Reply] = []

    async def send(reply: Reply) -> None:
        sent.append(reply)

    answered = await delivery.respond(_slow(0, "quick"), send, inline_seconds=2)
    assert answered is not None
    assert answered.title == "quick"
    await delivery.pending()
    assert sent == []


async def test_a_failing_command_still_answers() -> None:
    sent: list[Reply] = []

    async def send(reply: Reply) -> None:
        sent.append(reply)

    assert await delivery.respond(_broken(), send, inline_seconds=0) is None
    await delivery.pending()
    assert [r.tone for r in sent] == ["error"]


async def test_a_platform_that_hangs_up_still_gets_its_answer() -> None:
    sent: list[Reply] = []

    async def send(reply: Reply) -> None:
        sent.append(reply)

    waiting = asyncio.create_task(delivery.respond(_slow(0.2, "late"), send, inline_seconds=2))
    await asyncio.sleep(0.05)
    waiting.cancel()  # the HTTP client went away while the command ran
    await asyncio.gather(waiting, return_exceptions=True)
    await delivery.pending()
    assert [r.title for r in sent] == ["late"]
