"""Gauges read at scrape time: the database's counts, arq's queue, the connection pool.

A scrape first refreshes a snapshot (``refresh``), then prometheus-client renders
it (``collect``, synchronous). The refresh is bounded: each source gets
``SOURCE_TIMEOUT_S``, and a source that fails or times out is reported as
``fcplane_metrics_source_up{source=...} 0`` with its gauges left out (never stale
values). Scrapes that arrive while a refresh runs wait for that one instead of
starting another, so a burst of scrapers costs one short database read.

Replicas: the database and queue gauges are global (every replica reports the
same value; aggregate them with max, not sum); the pool gauges are per process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool

from service.state import AppState
from service.telemetry.repository import DELIVERY_STATES, JOB_STATES, Counts, TelemetryRepository

log = logging.getLogger(__name__)

SOURCE_TIMEOUT_S = 2.0
_GLOBAL = " Global: read from the database, the same on every replica (use max, not sum)."


@dataclass
class PoolStats:
    size: int
    in_use: int
    waiting: int | None


@dataclass
class Snapshot:
    sources: dict[str, bool] = field(default_factory=dict)
    counts: Counts | None = None
    queue_depth: int | None = None
    pool: PoolStats | None = None


def pool_stats(pool: Any) -> PoolStats | None:
    """The connection pool's size, connections checked out, and tasks waiting for one."""
    if not isinstance(pool, QueuePool):
        return None
    return PoolStats(pool.size(), pool.checkedout(), _waiting(pool))


def _waiting(pool: QueuePool) -> int | None:
    # SQLAlchemy has no public count of waiters. Its async pool queue is an
    # asyncio.Queue (created on first use), whose waiting getters are futures; if a
    # release changes that, the gauge is left out rather than wrong.
    queue = getattr(getattr(pool, "_pool", None), "__dict__", {}).get("_queue")
    if queue is None:
        return 0  # never used yet: nobody waits
    getters = getattr(queue, "_getters", None)
    if getters is None:
        return None
    return sum(1 for waiter in getters if not waiter.done())


class ScrapeCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self._refreshing: asyncio.Future[Snapshot] | None = None

    async def refresh(self, state: AppState) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._read(state))
        # Shielded: a scraper that disconnects does not cancel the others' refresh.
        self.snapshot = await asyncio.shield(self._refreshing)

    async def _read(self, state: AppState) -> Snapshot:
        snapshot = Snapshot(pool=pool_stats(state.db.engine.pool))
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_S), state.db.read() as session:
                snapshot.counts = await TelemetryRepository(session).counts()
            snapshot.sources["database"] = True
        except Exception as exc:  # down, pool exhausted, not migrated: reported, not raised
            log.warning("metrics: database counts unavailable: %s", type(exc).__name__)
            snapshot.sources["database"] = False
        if state.redis is not None:
            try:
                async with asyncio.timeout(SOURCE_TIMEOUT_S):
                    depth = await state.redis.zcard(state.settings.redis_queue_name)
                snapshot.queue_depth = int(depth)
                snapshot.sources["redis"] = True
            except Exception as exc:
                log.warning("metrics: job queue depth unavailable: %s", type(exc).__name__)
                snapshot.sources["redis"] = False
        return snapshot

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot
        up = GaugeMetricFamily(
            "fcplane_metrics_source_up",
            "1 if the last scrape read this source (database, redis), 0 if it failed or took "
            f"longer than {SOURCE_TIMEOUT_S:g}s; the source's gauges are then left out.",
            labels=["source"],
        )
        for source, ok in sorted(snap.sources.items()):
            up.add_metric([source], 1.0 if ok else 0.0)
        yield up
        if snap.counts is not None:
            yield from _counts(snap.counts)
        if snap.queue_depth is not None:
            yield GaugeMetricFamily(
                "fcplane_job_queue_depth",
                "Jobs waiting in arq's Redis queue for a worker (with FCPLANE_REDIS_URL only; "
                "the embedded setup's queued jobs are fcplane_jobs{status='queued'})." + _GLOBAL,
                value=snap.queue_depth,
            )
        if snap.pool is not None:
            yield from _pool(snap.pool)


def _counts(counts: Counts) -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "fcplane_drift_events_open",
        "Drift events still open (a function differs from what fcplane applied)." + _GLOBAL,
        value=counts.open_drift_events,
    )
    deliveries = GaugeMetricFamily(
        "fcplane_webhook_deliveries",
        "Webhook deliveries by status: pending (the backlog, including retries waiting for "
        "their next attempt) and failed (given up after the last attempt)." + _GLOBAL,
        labels=["status"],
    )
    for status in DELIVERY_STATES:
        deliveries.add_metric([status], counts.deliveries.get(status, 0))
    yield deliveries
    jobs = GaugeMetricFamily(
        "fcplane_jobs",
        "Jobs by status: queued (waiting for a worker or an in-process slot) and running."
        + _GLOBAL,
        labels=["status"],
    )
    for status in JOB_STATES:
        jobs.add_metric([status], counts.jobs.get(status, 0))
    yield jobs


def _pool(pool: PoolStats) -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "fcplane_db_pool_size",
        "Database connections this process may hold (FCPLANE_DATABASE_POOL_SIZE).",
        value=pool.size,
    )
    yield GaugeMetricFamily(
        "fcplane_db_pool_in_use",
        "Database connections of this process checked out right now (counted before the "
        "scrape's own read).",
        value=pool.in_use,
    )
    if pool.waiting is not None:
        yield GaugeMetricFamily(
            "fcplane_db_pool_waiting",
            "Tasks of this process waiting for a database connection (the pool is exhausted "
            "while this is above 0; each waits up to 30 s, then answers 503).",
            value=pool.waiting,
        )
