from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class CodePackage(Base):
    """A code zip stored once by its sha256, however many revisions use it.

    Kept in the database so every API replica and worker sees the same bytes
    without shared disk; ``data`` is deferred so listings never load it.
    """

    __tablename__ = "code_packages"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(32))  # CRC-64/XZ, as FC's codeChecksum
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
