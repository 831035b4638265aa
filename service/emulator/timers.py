"""Timer triggers that fire: one scheduler task in the emulator's event loop.

The scheduler keeps an index of the enabled timer triggers and when each fires
next. Trigger changes through the API (and reset) call ``wake()``, which
makes the next pass re-read every trigger, so a created, updated, disabled or
deleted timer takes effect at once; right before firing, the trigger is read
again, so even a change that did not wake it cannot fire a stale timer. A
firing is an asynchronous invocation of the trigger's qualifier with FC's
timer event (fc_assumptions.timer_event). The scheduler never catches up on
missed times (a suspended laptop does not get a burst): after a firing, the
next time is computed from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.emulator.catalog import TRIGGER
from service.emulator.context import Emulator
from service.emulator.cron import Schedule, parse_schedule
from service.emulator.errors import FCError
from service.emulator.fc_assumptions import timer_event
from service.emulator.invocation import invoke_in_background
from service.emulator.store import Doc
from service.emulator.trigger_config import parse_trigger_config

log = logging.getLogger(__name__)
# Longest sleep between passes: bounds how late a wake-up that got lost is noticed.
MAX_SLEEP_S = 1.0


@dataclass
class _Timer:
    function_name: str
    trigger_name: str
    version: str  # triggerId + lastModifiedTime: a changed trigger is a new timer
    schedule: Schedule
    due: datetime | None


def _version(doc: Doc) -> str:
    return f"{doc.get('triggerId')}@{doc.get('lastModifiedTime')}"


def _enabled_config(doc: Doc | None) -> dict[str, Any] | None:
    if doc is None or doc.get("triggerType") != "timer":
        return None
    try:
        cfg = parse_trigger_config(doc.get("triggerConfig") or "")
    except FCError:
        return None
    return cfg if cfg.get("enable") is True else None


class TimerScheduler:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._timers: dict[tuple[str, str], _Timer] = {}
        self._dirty = True
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="fc-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Triggers changed: re-read them before the next firing."""
        self._dirty = True
        self._woken.set()

    def schedule(self) -> list[dict[str, Any]]:
        """What fires next, for the admin API (current even before the scheduler's next pass)."""
        self._refresh(datetime.now(UTC))
        return [
            {
                "functionName": t.function_name,
                "triggerName": t.trigger_name,
                "nextTriggerTime": t.due.strftime("%Y-%m-%dT%H:%M:%SZ") if t.due else None,
            }
            for t in sorted(self._timers.values(), key=lambda t: (t.function_name, t.trigger_name))
        ]

    async def _run(self) -> None:
        while True:
            try:
                delay = self.tick(datetime.now(UTC))
            except Exception:  # one bad pass must not end the scheduler
                log.exception("timer scheduler pass failed")
                delay = MAX_SLEEP_S
            self._woken.clear()
            if self._dirty:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), delay)

    def tick(self, now: datetime) -> float:
        """Fire what is due at ``now``; return the seconds until the next pass."""
        self._refresh(now)
        soonest = MAX_SLEEP_S
        for timer in list(self._timers.values()):
            if timer.due is not None and timer.due <= now:
                self._fire(timer, now)
            if timer.due is not None:
                soonest = min(soonest, (timer.due - now).total_seconds())
        return max(0.0, soonest)

    def _refresh(self, now: datetime) -> None:
        if self._dirty:
            self._dirty = False
            self._reindex(now)

    def _reindex(self, now: datetime) -> None:
        timers: dict[tuple[str, str], _Timer] = {}
        for function_name, trigger_name, doc in self.emu.store.list(TRIGGER):
            cfg = _enabled_config(doc)
            if cfg is None:
                continue
            key = (function_name, trigger_name)
            known = self._timers.get(key)
            if known is not None and known.version == _version(doc):
                timers[key] = known
                continue
            try:
                schedule = parse_schedule(str(cfg.get("cronExpression", "")))
            except ValueError:
                log.warning("timer %s/%s has a bad cronExpression", function_name, trigger_name)
                continue
            timers[key] = _Timer(
                function_name, trigger_name, _version(doc), schedule, schedule.next_after(now)
            )
        self._timers = timers

    def _fire(self, timer: _Timer, now: datetime) -> None:
        due = timer.due
        assert due is not None
        timer.due = timer.schedule.next_after(max(now, due))
        doc = self.emu.store.get(TRIGGER, timer.function_name, timer.trigger_name)
        cfg = _enabled_config(doc)
        if doc is None or cfg is None or _version(doc) != timer.version:
            self._dirty = True  # changed without a wake-up: re-read, never fire the old one
            return
        event = timer_event(due, timer.trigger_name, str(cfg.get("payload", "")))
        try:
            invoke_in_background(
                self.emu,
                timer.function_name,
                str(doc.get("qualifier") or "LATEST"),
                event,
                trigger_name=timer.trigger_name,
            )
        except FCError as exc:
            log.warning(
                "timer %s/%s cannot fire: %s", timer.function_name, timer.trigger_name, exc.message
            )
