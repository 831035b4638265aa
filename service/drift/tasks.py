"""The scheduled drift scan: an arq cron job, or a loop inside the API without Redis."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from service.drift.service import DriftService
from service.jobs.context import WorkerContext
from service.state import AppState

log = logging.getLogger(__name__)


async def scan_drift(ctx: WorkerContext) -> dict[str, Any]:
    settings = ctx["settings"]
    service = DriftService(ctx["db"], ctx["secret_box"], ctx["gateway"])
    return await service.check_all(settings.drift_scan_concurrency)


async def run_scheduled_scans(state: AppState) -> None:
    """In-process schedule for the embedded default (no Redis)."""
    interval = state.settings.drift_scan_interval_seconds
    service = DriftService(state.db, state.secret_box, state.gateway)
    while True:
        await asyncio.sleep(interval)
        try:
            summary = await service.check_all(state.settings.drift_scan_concurrency)
            log.info(
                "drift scan: %d checked, %d drifted", summary["checked"], len(summary["drifted"])
            )
        except Exception:  # the schedule must survive a bad round (database down, ...)
            log.exception("drift scan failed")
