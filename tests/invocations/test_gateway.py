"""The invoke calls of the FC gateway, through the official SDK against the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.cloud.access import FcAccess
from service.cloud.errors import FcUnreachable
from service.cloud.gateway import FcGateway
from service.emulator.server import EmbeddedEmulator
from service.invocations.service import ANSWER_MARGIN_S, answer_wait_s
from service.models import Function
from tests.fc import access_to, reset, zip_b64

SLEEPER = "import time\n\ndef handler(event, context):\n    time.sleep(1.5)\n    return 'done'\n"


@pytest.fixture
def access(emulator: EmbeddedEmulator) -> Iterator[FcAccess]:
    yield access_to(emulator)
    reset(emulator)


async def test_a_sync_call_waits_as_long_as_it_is_told(access: FcAccess) -> None:
    # A client that gives up after half a second, as one with the default minute gives
    # up on a function whose timeout is longer than that.
    gateway = FcGateway(read_timeout_ms=500)
    await gateway.create_function(
        access,
        {
            "functionName": "sleeper",
            "runtime": "python3.10",
            "handler": "index.handler",
            "memorySize": 512,
            "cpu": 0.35,
            "timeout": 10,
            "code": {"zipFile": zip_b64({"index.py": SLEEPER})},
        },
    )
    with pytest.raises(FcUnreachable):
        await gateway.invoke_function(access, "sleeper", b"")
    answered = await gateway.invoke_function(access, "sleeper", b"", read_timeout_s=10)
    assert (answered.status, answered.body) == (200, b"done")


def test_the_wait_follows_the_applied_timeout() -> None:
    long_running = Function(applied_state={"timeout": 600})
    assert answer_wait_s(long_running, 60) == 600 + ANSWER_MARGIN_S
    assert answer_wait_s(Function(applied_state={"timeout": 3}), 60) is None
    assert answer_wait_s(Function(applied_state=None), 60) is None
