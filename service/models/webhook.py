"""Webhook subscriptions, the event outbox, deliveries and their attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, UTCDateTime, utcnow


class WebhookSubscription(Base):
    """Where to send which events, in which format; URL and secrets are sealed.

    Chat-robot URLs carry their access token (DingTalk `access_token=`, the
    last path segment for Feishu and Slack), so the URL is a secret too; only a
    redacted form is stored in clear, for display.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    url_redacted: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str] = mapped_column(String(16))
    events: Mapped[list[str]] = mapped_column(JSON)
    # None: every function (and events about no function).
    functions: Mapped[list[str] | None] = mapped_column(JSON)
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Kept after a rotation so receivers can switch secrets without a gap.
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def has_secret(self) -> bool:
        return self.secret_sealed is not None


class WebhookStream(Base):
    """Per-function event counter.

    Emitting increments the row inside the caller's transaction, which holds
    its lock until commit: events of one function get sequence numbers in
    commit order, so the dispatcher can send them in that order.
    """

    __tablename__ = "webhook_streams"

    # The function as "account/name", or "" for events about no function.
    stream: Mapped[str] = mapped_column(String(130), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class WebhookEvent(Base):
    """One outbox entry: something happened; written in the transaction that did it."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_webhook_events_stream_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Public id, sent as `webhook-id`: the same on every retry and redelivery.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    # The function's account alias and name (None: an event about no function).
    account: Mapped[str | None] = mapped_column(String(64))
    function: Mapped[str | None] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(130))
    seq: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(100))
    resource: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The X-Request-ID of the API request that caused the event (None for scans,
    # jobs' own events...), so a delivery's log lines lead back to the request.
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscription: pending until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "subscription_id", "stream", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    # Copied from the event so the "is an earlier one still pending?" check
    # reads one table.
    stream: Mapped[str] = mapped_column(String(130))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Attempts in the current round; a manual redelivery starts a new round.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[WebhookEvent] = relationship(lazy="raise")
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        lazy="raise", order_by="WebhookAttempt.id", passive_deletes=True
    )

    @property
    def next_attempt_due(self) -> datetime | None:
        """When the next attempt is due; None once the delivery has ended."""
        return self.next_attempt_at if self.status == "pending" else None


class WebhookAttempt(Base):
    """One HTTP attempt: what the receiver answered, or why nothing was sent."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(String(512))
    error: Mapped[str | None] = mapped_column(String(300))
