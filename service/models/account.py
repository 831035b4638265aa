from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class Account(Base):
    """FC credentials + region + endpoint; secrets are sealed (see kit.crypto)."""

    __tablename__ = "accounts"
    __table_args__ = (
        # At most one default account, enforced by the database itself.
        Index(
            "uq_accounts_single_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(255))
    access_key_id: Mapped[str] = mapped_column(String(128))
    access_key_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    security_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def has_security_token(self) -> bool:
        return self.security_token_sealed is not None
