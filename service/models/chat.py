"""Chat-ops: robot integrations that take commands from Slack, DingTalk and Feishu,
who may do what through them, approvals of changes, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class ChatIntegration(Base):
    """One robot (a Slack app, a DingTalk app robot, a Feishu app) fcplane answers.

    Secrets are sealed like webhook secrets and never returned: Slack's signing
    secret, DingTalk's app secret, Feishu's encrypt key (``secret_sealed``);
    Feishu's verification token and app secret (for replies) beside it.
    """

    __tablename__ = "chat_integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # slack | dingtalk | feishu
    platform: Mapped[str] = mapped_column(String(16))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    verification_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Feishu's app id (its app secret below buys the tenant token replies need).
    app_id: Mapped[str | None] = mapped_column(String(128))
    app_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Where outbound platform API calls go (Feishu's open-apis); None: the platform's own.
    api_base_url: Mapped[str | None] = mapped_column(String(300))
    # What users without a mapping may do: "read" or None (nothing).
    default_scope: Mapped[str | None] = mapped_column(String(16))
    # Channels (conversation ids) commands are taken from; None: any.
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    require_second_approver: Mapped[bool] = mapped_column(Boolean, default=True)
    approval_ttl_seconds: Mapped[int] = mapped_column(Integer, default=900)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class ChatUser(Base):
    """A platform user mapped to what they may do through one integration."""

    __tablename__ = "chat_users"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("chat_integrations.id", ondelete="CASCADE"), primary_key=True
    )
    platform_user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # read | deploy | admin (the token scopes)
    scope: Mapped[str] = mapped_column(String(16))
    # Shown as the actor of what they do ("alice" → actor "slack:alice").
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class ChatApproval(Base):
    """A change asked for in chat, waiting for (or past) its approval."""

    __tablename__ = "chat_approvals"
    __table_args__ = (Index("ix_chat_approvals_status_expiry", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("chat_integrations.id", ondelete="CASCADE"), index=True
    )
    # deploy | rollback
    action: Mapped[str] = mapped_column(String(16))
    # What to apply: {"account", "function" | "project", "plan_id", "revision", ...}
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_by_name: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(128))
    # pending | approved | rejected | expired | stale | failed
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where the approval message lives, to edit it with the outcome.
    reply_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What applying it produced ({"deployment_id": ...}) or why it did not.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatEvent(Base):
    """The audit trail: every command, approval and refusal taken from chat."""

    __tablename__ = "chat_events"
    __table_args__ = (Index("ix_chat_events_created", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_integrations.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(128))
    # command | approval | refusal
    kind: Mapped[str] = mapped_column(String(16))
    command: Mapped[str | None] = mapped_column(String(500))
    # ok | refused | failed | pending_approval | approved | rejected | expired | stale
    outcome: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(Text)
    approval_id: Mapped[str | None] = mapped_column(String(36))
    deployment_id: Mapped[str | None] = mapped_column(String(36))
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatReceipt(Base):
    """A request already answered (its signature or event id): a replay is answered once."""

    __tablename__ = "chat_receipts"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("chat_integrations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
