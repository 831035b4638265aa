"""The chat-ops audit trail: every command, approval decision and refusal taken from chat.

Events are written in their own short transaction once the command's outcome is
known (never inside the transaction of the change itself: a refused or failed
command must leave its trace too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from service.chatops.commands.repository import ChatEventRepository
from service.chatops.contract import ChatUser, Integration
from service.kit.db import Database
from service.models import ChatEvent

# Long enough for any command the grammar takes; details are cut to keep the trail small.
_MAX_COMMAND = 500
_MAX_DETAIL = 4000


class EventKind(StrEnum):
    COMMAND = "command"
    DECISION = "decision"
    REFUSAL = "refusal"


class EventOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STALE = "stale"


@dataclass(frozen=True)
class Trace:
    """What a command or decision did, as the audit trail records it."""

    kind: EventKind
    outcome: EventOutcome
    detail: str | None = None
    approval_id: str | None = None
    deployment_id: str | None = None
    job_id: str | None = None


async def record(
    db: Database,
    integration: Integration,
    user: ChatUser,
    command: str | None,
    trace: Trace,
    *,
    user_name: str | None = None,
) -> ChatEvent:
    name = user_name or user.display_name
    event = ChatEvent(
        integration_id=integration.id,
        platform=integration.platform,
        user_id=user.platform_user_id[:128],
        user_name=name[:100] if name else None,
        channel=user.channel_id[:128] if user.channel_id else None,
        kind=trace.kind.value,
        command=command[:_MAX_COMMAND] if command is not None else None,
        outcome=trace.outcome.value,
        detail=trace.detail[:_MAX_DETAIL] if trace.detail else None,
        approval_id=trace.approval_id,
        deployment_id=trace.deployment_id,
        job_id=trace.job_id,
    )
    async with db.write() as session:
        await ChatEventRepository(session).add(event)
    return event


class ChatEventOut(BaseModel):
    """One entry of the chat-ops audit trail."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    integration_id: int | None = Field(
        description="The integration the event came through (null once it was deleted)."
    )
    platform: str = Field(description="slack, dingtalk or feishu.")
    user_id: str | None = Field(description="The platform's stable user id.")
    user_name: str | None = Field(description="The display name, for reading only.")
    channel: str | None = Field(description="The conversation the command came from.")
    kind: EventKind = Field(
        description="`command` (a command was run), `decision` (an approval was approved, "
        "rejected, or found expired or stale) or `refusal` (the user lacked the scope, the "
        "channel is not allowed, or the requester tried to approve their own change)."
    )
    command: str | None = Field(description="The command text as typed.")
    outcome: EventOutcome
    detail: str | None = Field(description="Why, in words (errors, what moved).")
    approval_id: str | None
    deployment_id: str | None = Field(description="A function or project deployment it started.")
    job_id: str | None = Field(description="A job it queued (stress).")
    created_at: datetime


class AuditService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(
        self,
        integration_id: int | None,
        user_id: str | None,
        outcome: EventOutcome | None,
        kind: EventKind | None,
        after: int | None,
        limit: int,
    ) -> list[ChatEvent]:
        async with self.db.read() as session:
            return await ChatEventRepository(session).page(
                integration_id,
                user_id,
                outcome.value if outcome else None,
                kind.value if kind else None,
                after,
                limit,
            )
