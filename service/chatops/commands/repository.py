"""SQL of the command layer: approvals (with their one-way status changes), the audit
trail, and the user mapping a command is authorized by."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from service.kit.repository import Repository
from service.models import ChatApproval, ChatEvent


class ApprovalRepository(Repository[ChatApproval]):
    model = ChatApproval

    async def decide(
        self,
        approval_id: str,
        status: str,
        decided_by: str | None,
        now: datetime,
        outcome: dict[str, Any] | None = None,
    ) -> bool:
        """Move a pending approval to ``status``; False when it was no longer pending.

        A conditional UPDATE, not read-then-write: of two people clicking Approve at
        the same moment exactly one moves it, so a change is never applied twice.
        """
        result = await self.session.execute(
            update(ChatApproval)
            .where(ChatApproval.id == approval_id, ChatApproval.status == "pending")
            .values(status=status, decided_by=decided_by, decided_at=now, outcome=outcome)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def by_prefix(self, integration_id: int, prefix: str) -> list[ChatApproval]:
        """Approvals of the integration whose id starts with ``prefix`` (at most two:
        enough to tell a unique prefix from an ambiguous one)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(ChatApproval)
            .where(
                ChatApproval.integration_id == integration_id,
                ChatApproval.id.like(escaped + "%", escape="\\"),
            )
            .limit(2)
        )
        return list((await self.session.scalars(query)).all())

    async def settle(self, approval_id: str, status: str, outcome: dict[str, Any]) -> None:
        """Record what applying an approved change did (approved, stale or failed)."""
        await self.session.execute(
            update(ChatApproval)
            .where(ChatApproval.id == approval_id)
            .values(status=status, outcome=outcome)
        )


class ChatEventRepository(Repository[ChatEvent]):
    model = ChatEvent

    async def page(
        self,
        integration_id: int | None,
        user_id: str | None,
        outcome: str | None,
        kind: str | None,
        after: int | None,
        limit: int,
    ) -> list[ChatEvent]:
        """Newest first (by id: the order they were recorded in)."""
        query = select(ChatEvent).order_by(ChatEvent.id.desc()).limit(limit)
        if integration_id is not None:
            query = query.where(ChatEvent.integration_id == integration_id)
        if user_id is not None:
            query = query.where(ChatEvent.user_id == user_id)
        if outcome is not None:
            query = query.where(ChatEvent.outcome == outcome)
        if kind is not None:
            query = query.where(ChatEvent.kind == kind)
        if after is not None:
            query = query.where(ChatEvent.id < after)
        return list((await self.session.scalars(query)).all())
