"""In-process jobs: the embedded setup (no Redis) runs jobs as tasks of the API process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.jobs.execution import JobDeps, execute
from service.jobs.sweeper import sweep

log = logging.getLogger(__name__)


class InProcessRunner:
    """A bounded pool of job tasks plus the sweeper loop; what `enqueue` means without Redis."""

    def __init__(self, deps: JobDeps) -> None:
        self.deps = deps
        self._slots = asyncio.Semaphore(deps.settings.job_max_concurrent)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._owner = f"api:{socket.gethostname()}:{os.getpid()}"

    async def enqueue(self, job_id: str) -> None:
        if job_id in self._tasks:
            return  # already waiting for a slot or running here
        task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _run(self, job_id: str) -> None:
        async with self._slots:
            try:
                await execute(self.deps, job_id, f"{self._owner}:{uuid.uuid4().hex[:8]}")
            except Exception:
                log.exception("job %s: attempt crashed", job_id)

    async def sweep_once(self) -> dict[str, list[str]]:
        # Every queued job is offered to this process: after a restart that
        # picks up what the previous run left queued (enqueue skips known ones).
        return await sweep(self.deps, self.enqueue, stale_after=0)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:  # the loop must survive a bad round (database down, ...)
                log.exception("job sweep failed")
            await asyncio.sleep(self.deps.settings.job_sweep_seconds)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="job-sweeper")

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def in_process_jobs(deps: JobDeps) -> AsyncIterator[InProcessRunner]:
    runner = InProcessRunner(deps)
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
