from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.kit.leases import expired_sql
from service.kit.repository import Repository
from service.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookStream,
    WebhookSubscription,
)
from service.models.function import FunctionRef
from service.webhooks.schemas import DeliveryStatus

_PENDING = DeliveryStatus.PENDING.value


class SubscriptionRepository(Repository[WebhookSubscription]):
    model = WebhookSubscription

    async def page(self, after: int | None, limit: int) -> list[WebhookSubscription]:
        query = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
        if after is not None:
            query = query.where(WebhookSubscription.id > after)
        return list((await self.session.scalars(query)).all())


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery

    def _with_details(self) -> Any:
        return select(WebhookDelivery).options(
            selectinload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log)
        )

    async def by_id(self, delivery_id: int) -> WebhookDelivery | None:
        query = self._with_details().where(WebhookDelivery.id == delivery_id)
        found: WebhookDelivery | None = await self.session.scalar(
            query.execution_options(populate_existing=True)
        )
        return found

    async def page(
        self, subscription_id: int, status: str | None, before: int | None, limit: int
    ) -> list[WebhookDelivery]:
        """Newest first."""
        query = (
            self._with_details()
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        if before is not None:
            query = query.where(WebhookDelivery.id < before)
        return list((await self.session.scalars(query)).all())

    async def restart(self, delivery: WebhookDelivery, now: datetime) -> None:
        delivery.status = _PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.finished_at = None
        delivery.lease_owner = None
        delivery.lease_expires_at = None
        await self.session.flush()


class OutboxRepository:
    """Writes of emit(), and the dispatcher's claim / read / record statements."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_seq(self, stream: str) -> int:
        # An upsert, not read-then-write: two first events of a function must not
        # both insert. The row stays locked until the caller commits, which
        # orders a function's events by commit.
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(WebhookStream)
            .values(stream=stream, last_seq=1)
            .on_conflict_do_update(
                index_elements=[WebhookStream.stream],
                set_={"last_seq": WebhookStream.last_seq + 1},
            )
            .returning(WebhookStream.last_seq)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def add(self, event: WebhookEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def add_deliveries(self, deliveries: Iterable[WebhookDelivery]) -> None:
        self.session.add_all(list(deliveries))
        await self.session.flush()

    async def subscribed_ids(self, event_type: str, function: FunctionRef | None) -> list[int]:
        """Active subscriptions to ``event_type`` whose function filter takes ``function``
        (an entry is a name, in any account, or ``account/name``)."""
        rows = await self.session.execute(
            select(
                WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.functions
            ).where(WebhookSubscription.active.is_(True))
        )
        names = {function.name, str(function)} if function else set()
        return [
            sid
            for sid, events, functions in rows
            if event_type in events and (functions is None or names & set(functions))
        ]

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        """Lease up to `limit` due deliveries, each the oldest pending one of its
        (subscription, function): per-function order, one in flight per pair.

        The UPDATE re-checks the lease, so of two dispatchers that picked the
        same rows only one gets each (PostgreSQL re-evaluates the WHERE after
        the row lock; SQLite has a single writer).
        """
        d = WebhookDelivery
        # Rank the pending rows of each (subscription, function) in one pass; a
        # self-join or NOT EXISTS per row let PostgreSQL pick nested loops.
        pending = (
            select(
                d.id,
                d.subscription_id,
                d.next_attempt_at,
                d.lease_expires_at,
                func.row_number()
                .over(partition_by=(d.subscription_id, d.stream), order_by=d.seq)
                .label("rank"),
            )
            # A disabled subscription's backlog is not even ranked.
            .join(WebhookSubscription, WebhookSubscription.id == d.subscription_id)
            .where(d.status == _PENDING, WebhookSubscription.active.is_(True))
            .subquery()
        )
        candidates = (
            select(pending.c.id)
            .where(
                pending.c.rank == 1,
                pending.c.next_attempt_at <= now,
                expired_sql(pending.c.lease_expires_at, now),
            )
            .order_by(pending.c.next_attempt_at, pending.c.id)
            .limit(limit)
        )
        ids = list((await self.session.scalars(candidates)).all())
        if not ids:
            return []
        target = WebhookDelivery
        claimed = await self.session.scalars(
            update(target)
            .where(
                target.id.in_(ids),
                target.status == _PENDING,
                # Re-checked: another dispatcher may have tried it meanwhile.
                target.next_attempt_at <= now,
                expired_sql(target.lease_expires_at, now),
            )
            .values(lease_owner=owner, lease_expires_at=lease_until)
            .returning(target.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed.all())

    async def work_items(
        self, delivery_ids: list[int]
    ) -> list[tuple[WebhookDelivery, WebhookEvent, WebhookSubscription]]:
        query = (
            select(WebhookDelivery, WebhookEvent, WebhookSubscription)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .order_by(WebhookDelivery.id)
        )
        return [(d, e, s) for d, e, s in await self.session.execute(query)]

    async def record(
        self, delivery_id: int, owner: str, attempt: WebhookAttempt, values: dict[str, Any]
    ) -> bool:
        """Apply `values` only while we still hold the lease; log the attempt either
        way, unless the delivery is gone (its subscription was deleted meanwhile)."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None, **values)
            .execution_options(synchronize_session=False)
        )
        held = int(getattr(result, "rowcount", 0) or 0) == 1
        if held or await self.session.get(WebhookDelivery, delivery_id) is not None:
            # Inserted with the other attempts at commit, in one batch.
            self.session.add(attempt)
        return held

    async def purge(self, before: datetime) -> int:
        """Delete events older than `before` that nothing is pending for; their
        deliveries and attempts go with them (ON DELETE CASCADE)."""
        pending = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.event_id == WebhookEvent.id,
                WebhookDelivery.status == _PENDING,
            )
            .exists()
        )
        result = await self.session.execute(
            delete(WebhookEvent).where(WebhookEvent.created_at < before, ~pending)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def disable(self, subscription_id: int, reason: str) -> None:
        await self.session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(active=False, disabled_reason=reason)
        )
