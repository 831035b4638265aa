from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class Function(Base):
    """A function managed by fcplane, bound to one account.

    ``head_revision`` moves only with a successful deploy; ``applied_*`` is what
    FC reported right after it (the baseline that makes drift visible).
    ``deploying_id`` + ``deploy_lease_until`` is the claim that lets exactly one
    deploy talk to FC at a time. ``drift_status`` is ``in_sync`` only while the
    function has no open drift event (a deploy relies on it to skip that lookup).
    """

    __tablename__ = "functions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    head_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drift_status: Mapped[str] = mapped_column(
        String(16), default="unknown", server_default="unknown"
    )
    drift_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deploying_id: Mapped[str | None] = mapped_column(String(36))
    deploy_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
