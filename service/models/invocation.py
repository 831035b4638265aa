"""The audit trail of invocations made through fcplane (who, when, which qualifier)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class InvocationRecord(Base):
    """One invoke call through the API. The payload and the response are never kept:
    they may carry personal data or secrets; what is kept answers "who ran what"."""

    __tablename__ = "invocations"
    __table_args__ = (Index("ix_invocations_function", "account_id", "function_name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    function_name: Mapped[str] = mapped_column(String(128))
    qualifier: Mapped[str | None] = mapped_column(String(128))
    # sync | async
    mode: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(100))
    # fcplane's request id (X-Request-ID) and FC's, to find the call on both sides.
    request_id: Mapped[str | None] = mapped_column(String(64))
    fc_request_id: Mapped[str | None] = mapped_column(String(64))
    # ok | function_error | failed (FC refused or could not be reached)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
