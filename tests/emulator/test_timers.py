"""Timer triggers fire on their schedule with FC's timer event; disabling or deleting stops them."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import admin, code_of, create_function, wait_for

# Prints the event it got, so the emulator's logs show what the timer sent.
TIMER_PY = """
def handler(event, context):
    print("EVENT " + event.decode())
    return "ok"
"""
_EVENT = re.compile(r"EVENT (\{.*\})")


def _timer(fc: Client, fn: str, name: str, cron: str, payload: str, enable: bool = True) -> Any:
    config = {"cronExpression": cron, "enable": enable, "payload": payload}
    return fc.create_trigger(
        fn,
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name=name, trigger_type="timer", trigger_config=json.dumps(config)
            )
        ),
    ).body


def _events(emulator: EmbeddedEmulator, fn: str) -> list[dict[str, Any]]:
    """The timer events the function received (newest first), with the logged trigger name."""
    found = []
    for entry in admin(emulator, "GET", f"logs?functionName={fn}").json()["logs"]:
        match = _EVENT.search(entry["log"])
        if match:
            found.append({**json.loads(match.group(1)), "logged": entry["triggerName"]})
    return found


def test_timers_fire_until_disabled_or_deleted(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "ticker", code=code_of(TIMER_PY))
    create_function(fc, "cron6", code=code_of(TIMER_PY))
    created = _timer(fc, "ticker", "every", "@every 1s", "from @every")
    assert created.trigger_type == "timer"
    assert json.loads(created.trigger_config)["cronExpression"] == "@every 1s"
    _timer(fc, "cron6", "secondly", "* * * * * *", "from cron")
    _timer(fc, "cron6", "off", "* * * * * *", "never", enable=False)
    schedule = admin(emulator, "GET", "timers").json()["timers"]
    assert {(t["functionName"], t["triggerName"]) for t in schedule} == {
        ("ticker", "every"),
        ("cron6", "secondly"),
    }
    wait_for(
        "both timers to fire twice",
        lambda: len(_events(emulator, "ticker")) >= 2 and len(_events(emulator, "cron6")) >= 2,
        timeout_s=30,
    )
    for fn, trigger, payload in (
        ("ticker", "every", "from @every"),
        ("cron6", "secondly", "from cron"),
    ):
        events = _events(emulator, fn)
        assert all(e["triggerName"] == e["logged"] == trigger for e in events)
        assert all(e["payload"] == payload for e in events)
        times = [e["triggerTime"] for e in events]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in times)
        assert len(set(times)) == len(times)  # one event per scheduled time
    fc.update_trigger(
        "ticker",
        "every",
        m.UpdateTriggerRequest(
            body=m.UpdateTriggerInput(
                trigger_config=json.dumps({"cronExpression": "@every 1s", "enable": False})
            )
        ),
    )
    fc.delete_trigger("cron6", "secondly")
    assert admin(emulator, "GET", "timers").json()["timers"] == []
    time.sleep(1.0)  # an invocation already on its way may still land
    counts = (len(_events(emulator, "ticker")), len(_events(emulator, "cron6")))
    time.sleep(2.5)
    assert (len(_events(emulator, "ticker")), len(_events(emulator, "cron6"))) == counts


def _refused(call: Any) -> str:
    with pytest.raises(ClientException) as exc:
        call()
    assert (exc.value.status_code, exc.value.code) == (400, "InvalidArgument")
    return str(exc.value.message)


def test_bad_timer_configs_are_refused(fc: Client) -> None:
    create_function(fc, "t")
    for cron in ("61 * * * * *", "* * * * *", "@every", "@every 0s", "0 0 0 31 2 *", "@often"):
        assert "cronExpression" in _refused(lambda c=cron: _timer(fc, "t", "bad", c, ""))
    missing_enable = json.dumps({"cronExpression": "@every 1m"})
    assert "enable" in _refused(
        lambda: fc.create_trigger(
            "t",
            m.CreateTriggerRequest(
                body=m.CreateTriggerInput(
                    trigger_name="bad", trigger_type="timer", trigger_config=missing_enable
                )
            ),
        )
    )
    _timer(fc, "t", "good", "0 0 8 * * *", "", enable=False)
    assert "cronExpression" in _refused(
        lambda: fc.update_trigger(
            "t",
            "good",
            m.UpdateTriggerRequest(
                body=m.UpdateTriggerInput(
                    trigger_config=json.dumps({"cronExpression": "0 0 25 * * *", "enable": True})
                )
            ),
        )
    )
