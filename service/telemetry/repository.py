"""The counts /metrics reads at scrape time: small, index-backed aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import DriftEvent, Job, WebhookDelivery
from service.models.drift import DriftEventStatus

# Only the states an operator watches: the finished ones grow forever and would make
# each scrape count the whole history.
DELIVERY_STATES = ("pending", "failed")
JOB_STATES = ("queued", "running")


@dataclass
class Counts:
    """What the database says right now, for every replica alike."""

    open_drift_events: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)


class TelemetryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts(self) -> Counts:
        """Three aggregates, each over an index whose first column is the status."""
        drift = await self.session.scalar(
            select(func.count())
            .select_from(DriftEvent)
            .where(DriftEvent.status == DriftEventStatus.OPEN)
        )
        deliveries = await self.session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.status.in_(DELIVERY_STATES))
            .group_by(WebhookDelivery.status)
        )
        jobs = await self.session.execute(
            select(Job.status, func.count()).where(Job.status.in_(JOB_STATES)).group_by(Job.status)
        )
        return Counts(
            open_drift_events=int(drift or 0),
            deliveries={str(status): int(n) for status, n in deliveries.all()},
            jobs={str(status): int(n) for status, n in jobs.all()},
        )
