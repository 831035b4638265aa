"""Delivers pending webhook deliveries: claim, sign, send, record, retry.

Safe to run in many processes at once: rows are claimed with a lease, and a
delivery is retried by whichever dispatcher finds it due. A dispatcher that
dies mid-send leaves a lease that expires; the delivery is then sent again
(at least once; receivers deduplicate by `webhook-id`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.request_id import bound_request_id
from service.kit.settings import Settings
from service.models import WebhookAttempt, WebhookEvent, WebhookSubscription
from service.models.base import utcnow
from service.telemetry.metrics import count_webhook_attempt
from service.webhooks import messages, transport
from service.webhooks.outbox import add_waker, remove_waker
from service.webhooks.repository import OutboxRepository
from service.webhooks.schemas import DeliveryStatus, Format, Outcome
from service.webhooks.secrets import open_secrets, open_url
from service.webhooks.url_safety import DestinationPolicy

log = logging.getLogger(__name__)

# Beyond the request timeout, time to record the result before another
# dispatcher may take the delivery over.
LEASE_MARGIN = timedelta(seconds=60)
RETRY_AFTER_CAP_SECONDS = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.webhook_max_attempts,
            settings.webhook_backoff_base_seconds,
            settings.webhook_backoff_max_seconds,
        )

    def delay(self, attempts: int, retry_after: float | None) -> float:
        """Seconds before attempt `attempts + 1`: exponential with "equal jitter"
        (half fixed, half random, so retries of many deliveries spread out but
        never come back too soon), and at least what the receiver's Retry-After
        asked for (up to an hour: a receiver cannot park deliveries for days)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempts - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
        return float(delay)


@dataclass(frozen=True)
class _Work:
    delivery_id: int
    attempts: int
    event: WebhookEvent
    subscription: WebhookSubscription


class Dispatcher:
    """Claims, sends and records; `pump` keeps up to `webhook_concurrency` attempts in
    flight, so a slow receiver holds one slot rather than a whole batch."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        box: SecretBox,
        client: transport.Connections,
    ) -> None:
        self.settings = settings
        self.db = db
        self.box = box
        self.client = client
        self.policy = DestinationPolicy(settings.webhook_allowed_hosts)
        self.retry = RetryPolicy.from_settings(settings)
        self.owner = f"dispatcher-{uuid.uuid4().hex[:12]}"
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN
        # One write of this dispatcher at a time: results that arrive while a
        # write runs are committed together by the next one. (Database.write()
        # queues it behind the process's other SQLite writers.)
        self._write_lock = asyncio.Lock()
        self._unrecorded: list[tuple[_Work, transport.AttemptResult]] = []

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and deliver it; returns the attempts made."""
        work = await self._claim(self.settings.webhook_concurrency)
        await asyncio.gather(*(self._deliver(w) for w in work))
        return len(work)

    async def pump(
        self,
        wake: asyncio.Event,
        idle_seconds: float,
        should_stop: Callable[[], bool],
        *,
        until_idle: bool = False,
    ) -> int:
        """Deliver continuously until `should_stop()` (or, with `until_idle`, until
        nothing is due or in flight); returns the attempts made."""
        concurrency = self.settings.webhook_concurrency
        in_flight: set[asyncio.Task[None]] = set()
        total = 0
        try:
            while not should_stop():
                free = concurrency - len(in_flight)
                work = await self._claim(free) if free > 0 else []
                total += len(work)
                in_flight |= {asyncio.create_task(self._deliver(w)) for w in work}
                if work and len(work) == free:
                    continue  # a full batch: there may be more due
                if until_idle and not in_flight:
                    break
                # Wait for a finished attempt (it may unblock the next event of
                # its function), an emit in this process, or the poll interval.
                woken = asyncio.create_task(wake.wait())
                await asyncio.wait(
                    {*in_flight, woken}, timeout=idle_seconds, return_when=FIRST_COMPLETED
                )
                woken.cancel()
                wake.clear()
                in_flight = {t for t in in_flight if not t.done()}
        finally:
            if in_flight:
                await asyncio.gather(*in_flight)
        return total

    async def _claim(self, limit: int) -> list[_Work]:
        now = utcnow()
        async with self._write_lock, self.db.write() as session:
            outbox = OutboxRepository(session)
            ids = await outbox.claim(self.owner, now, now + self.lease, limit)
            rows = await outbox.work_items(ids) if ids else []
        return [_Work(d.id, d.attempts, e, s) for d, e, s in rows]

    async def _deliver(self, work: _Work) -> None:
        # Under the id of the request that caused the event: its log lines lead back to it.
        with bound_request_id(work.event.request_id):
            try:
                result = await self._attempt(work.event, work.subscription)
                count_webhook_attempt(result.outcome.value)
                self._unrecorded.append((work, result))
                async with self._write_lock:
                    batch, self._unrecorded = self._unrecorded, []
                    if batch:
                        await self._record(batch)
            except Exception as exc:
                # One bad row must not stop the others; its lease expires and it is
                # tried again. Type only: the text may carry a URL or payload.
                log.error(
                    "webhook delivery %s failed internally: %s",
                    work.delivery_id,
                    type(exc).__name__,
                )

    async def _attempt(
        self, event: WebhookEvent, subscription: WebhookSubscription
    ) -> transport.AttemptResult:
        now = utcnow()
        fmt = Format(subscription.format)
        url = open_url(self.box, subscription)
        request = messages.render(
            fmt,
            messages.Event(
                uid=event.uid,
                type=event.type,
                function=event.function,
                account=event.account,
                actor=event.actor,
                link=self.settings.resolved_public_url + event.resource if event.resource else None,
                payload=event.payload,
                created_at=event.created_at,
            ),
            open_secrets(self.box, subscription, now),
            now,
        )
        return await transport.attempt(
            self.client, self.policy, fmt, url, request, self.settings.webhook_timeout_seconds
        )

    def _changes(self, attempts: int, result: transport.AttemptResult) -> dict[str, object]:
        now = utcnow()
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": result.status_code,
            "last_error": result.error,
        }
        if result.outcome is Outcome.RETRY and attempts < self.retry.max_attempts:
            delay = self.retry.delay(attempts, result.retry_after)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            return values
        done = result.outcome is Outcome.DELIVERED
        status = DeliveryStatus.DELIVERED if done else DeliveryStatus.FAILED
        return values | {"status": status.value, "finished_at": now}

    async def _record(self, batch: list[tuple[_Work, transport.AttemptResult]]) -> None:
        async with self.db.write() as session:
            outbox = OutboxRepository(session)
            for work, result in batch:
                attempt = WebhookAttempt(
                    delivery_id=work.delivery_id,
                    attempted_at=utcnow(),
                    outcome=result.outcome.value,
                    status_code=result.status_code,
                    latency_ms=result.latency_ms,
                    response_excerpt=result.excerpt,
                    error=result.error,
                )
                values = self._changes(work.attempts + 1, result)
                if not await outbox.record(work.delivery_id, self.owner, attempt, values):
                    log.warning(
                        "webhook delivery %s: lease lost before recording", work.delivery_id
                    )
                    continue
                if result.outcome is Outcome.DISABLED:
                    reason = f"receiver answered 410 Gone at {utcnow():%Y-%m-%dT%H:%M:%SZ}"
                    await outbox.disable(work.subscription.id, reason)
        for work, result in batch:
            # A batch records other tasks' attempts too: each line under its own event's id.
            with bound_request_id(work.event.request_id):
                log.info(
                    "webhook delivery %s to subscription %s: %s (status %s, %d ms)",
                    work.delivery_id,
                    work.subscription.id,
                    result.outcome.value,
                    result.status_code,
                    result.latency_ms,
                )


class BackgroundDispatcher:
    """The in-process dispatcher of the embedded setup (no Redis): one task that
    delivers whenever something is emitted or due."""

    def __init__(self, dispatcher: Dispatcher, poll_seconds: float) -> None:
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        add_waker(asyncio.get_running_loop(), self.wake)
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        remove_waker(asyncio.get_running_loop(), self.wake)
        self._stopping = True
        self.wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except TimeoutError:
                pass  # wait_for cancelled it; unfinished leases expire and are retried

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self.dispatcher.pump(self.wake, self.poll_seconds, lambda: self._stopping)
            except Exception as exc:
                # The database may be down or not migrated yet: keep trying, slower.
                failures += 1
                log.warning("webhook dispatcher: %s; retrying", type(exc).__name__)
                try:
                    pause = min(self.poll_seconds * 2**failures, 30.0)
                    await asyncio.wait_for(self.wake.wait(), timeout=pause)
                except TimeoutError:
                    pass
                self.wake.clear()
            else:
                failures = 0
