from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class Deployment(Base):
    """One deploy attempt: who, what strategy, from/to which revision, and how it ended."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index("uq_deployments_idempotency", "function_id", "idempotency_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    # in_progress | succeeded | failed | conflict | interrupted
    status: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="deploy")  # deploy | rollback | apply
    base_revision: Mapped[int | None] = mapped_column(Integer)
    from_revision: Mapped[int] = mapped_column(Integer)
    to_revision: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    fc_request_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The pushed desired state, so an interrupted deploy can be recognised later.
    pushed_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
