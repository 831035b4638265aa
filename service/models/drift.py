from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, EnumText, UTCDateTime, utcnow
from service.models.function import Function


class DriftEventStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a drift event ended."""

    IN_SYNC = "in-sync"  # a check found FC back at the applied state
    DEPLOY = "deploy"  # a deploy (use-local, merge) replaced the drifted state
    USE_REMOTE = "use-remote"  # a deploy adopted the drifted state as a revision
    ROLLBACK = "rollback"  # a rollback replaced the drifted state


class DriftEvent(Base):
    """A period during which the live function differed from its applied state."""

    __tablename__ = "drift_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    # None: the function's own drift; else the alias of the function that drifted.
    alias: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[DriftEventStatus] = mapped_column(EnumText(DriftEventStatus), index=True)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # A deploy that pushed to FC but died before recording it (if that explains the drift).
    deployment_id: Mapped[str | None] = mapped_column(String(36))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[Resolution | None] = mapped_column(EnumText(Resolution))
    # The deployment whose deploy, adoption or rollback ended the drift.
    resolved_by_deployment_id: Mapped[str | None] = mapped_column(String(36))

    # Loaded by the queries that present an event, never lazily.
    function: Mapped[Function] = relationship(lazy="raise")
