from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, EnumText, UTCDateTime, utcnow


class RevisionSource(StrEnum):
    DEPLOY = "deploy"
    ADOPT = "adopt"  # registered with adopt: the live function became revision 1
    USE_REMOTE = "use-remote"  # a deploy adopted what FC runs
    ROLLBACK = "rollback"


class Revision(Base):
    """An immutable, numbered snapshot: normalized config + code, as FC accepted it."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("function_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("functions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    code_checksum: Mapped[str | None] = mapped_column(String(32))
    code_sha256: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[RevisionSource] = mapped_column(EnumText(RevisionSource))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
