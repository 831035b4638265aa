"""Approvals of changes asked for in chat: a deploy or a rollback waits here until a
permitted user approves or rejects it, or it expires.

An approval stores what exactly will be applied (a saved plan's id, or a rollback's
target and the head it was asked against), so approving applies *that* change or
nothing: if anything moved since, the change is refused as stale. Status only moves
forward, from ``pending`` once (a conditional update): a second click finds it
decided and is told by whom.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from service.chatops.commands.repository import ApprovalRepository
from service.chatops.contract import ChatUser, Integration, ReplyTarget
from service.kit.db import Database
from service.models import ChatApproval
from service.models.base import utcnow

UUID_LENGTH = 36
MIN_PREFIX = 8


class ApprovalAction(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    # Approved: applied (outcome has the deployment) or being applied (outcome null).
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    # Approved, but the function or project moved since the request: nothing applied.
    STALE = "stale"
    # Approved, but applying failed (outcome says why).
    FAILED = "failed"


def _target_json(target: ReplyTarget | None) -> dict[str, Any] | None:
    if target is None:
        return None
    body = asdict(target)
    if target.expires_at is not None:
        body["expires_at"] = target.expires_at.isoformat()
    return body


def reply_target(stored: dict[str, Any] | None) -> ReplyTarget | None:
    """Where the approval message lives (to edit it with the outcome), as stored."""
    if not isinstance(stored, dict) or stored.get("kind") not in (
        "slack_response_url",
        "dingtalk_session_webhook",
        "feishu_message",
    ):
        return None
    expires = stored.get("expires_at")
    try:
        expires_at = datetime.fromisoformat(expires) if isinstance(expires, str) else None
    except ValueError:
        expires_at = None
    return ReplyTarget(
        kind=stored["kind"],
        url=stored.get("url"),
        message_id=stored.get("message_id"),
        expires_at=expires_at,
    )


def expired(approval: ChatApproval, now: datetime) -> bool:
    return approval.status == ApprovalStatus.PENDING and approval.expires_at <= now


def self_approval(approval: ChatApproval, integration: Integration, user: ChatUser) -> bool:
    """The requester approving their own change where a second person is required."""
    return integration.require_second_approver and approval.requested_by == user.platform_user_id


class ApprovalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        integration: Integration,
        user: ChatUser,
        requester_name: str | None,
        action: ApprovalAction,
        request: dict[str, Any],
        reply_to: ReplyTarget | None,
    ) -> ChatApproval:
        now = utcnow()
        approval = ChatApproval(
            id=str(uuid.uuid4()),
            integration_id=integration.id,
            action=action.value,
            request=request,
            requested_by=user.platform_user_id[:128],
            requested_by_name=requester_name[:100] if requester_name else None,
            channel=user.channel_id[:128] if user.channel_id else None,
            status=ApprovalStatus.PENDING.value,
            expires_at=now + timedelta(seconds=integration.approval_ttl_seconds),
            reply_to=_target_json(reply_to),
            created_at=now,
        )
        async with self.db.write() as session:
            await ApprovalRepository(session).add(approval)
        return approval

    async def get(self, integration: Integration, approval_id: str) -> ChatApproval | None:
        """The approval, only through the integration it was asked in; a unique prefix of
        at least :data:`MIN_PREFIX` characters will do (typing a whole uuid is a chore)."""
        async with self.db.read() as session:
            approvals = ApprovalRepository(session)
            if len(approval_id) >= UUID_LENGTH:
                found = await approvals.get(approval_id)
            elif len(approval_id) >= MIN_PREFIX:
                matches = await approvals.by_prefix(integration.id, approval_id.lower())
                found = matches[0] if len(matches) == 1 else None
            else:
                found = None
        if found is None or found.integration_id != integration.id:
            return None
        return found

    async def decide(
        self,
        approval_id: str,
        status: ApprovalStatus,
        decided_by: str | None,
        outcome: dict[str, Any] | None = None,
    ) -> bool:
        """Move a pending approval on; False when someone else decided it first."""
        async with self.db.write() as session:
            return await ApprovalRepository(session).decide(
                approval_id, status.value, decided_by, utcnow(), outcome
            )

    async def settle(
        self, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]
    ) -> None:
        async with self.db.write() as session:
            await ApprovalRepository(session).settle(approval_id, status.value, outcome)


__all__ = [
    "ApprovalAction",
    "ApprovalStatus",
    "ApprovalStore",
    "expired",
    "reply_target",
    "self_approval",
]
