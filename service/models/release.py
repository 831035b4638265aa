"""Releases: published versions of a function, and the aliases that route to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.kit.leases import held
from service.models.base import Base, EnumText, UTCDateTime, utcnow
from service.models.function import DriftStatus


class FunctionVersion(Base):
    """A version FC published from a function's applied state (recorded by who and from
    which revision)."""

    __tablename__ = "function_versions"
    __table_args__ = (UniqueConstraint("function_id", "version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    # The head revision whose applied state FC ran when the version was published.
    from_revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AliasSource(StrEnum):
    UPDATE = "update"
    ROLLBACK = "rollback"
    DELETE = "delete"


class Alias(Base):
    """An alias of a managed function, with its own revisions (its base, like a function's).

    ``applied_state`` is what FC reported after fcplane's last change (None:
    deleted through fcplane); ``claim_id`` + ``claim_until`` lets one change
    talk to FC at a time.
    """

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("function_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    function_id: Mapped[int] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    head: Mapped[int] = mapped_column(Integer, default=0)
    # SQL NULL (not JSON null) when deleted, so queries can tell.
    applied_state: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    drift_status: Mapped[DriftStatus] = mapped_column(
        EnumText(DriftStatus), default=DriftStatus.UNKNOWN
    )
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))

    def claim_held(self, now: datetime | None = None) -> bool:
        return self.claim_id is not None and held(self.claim_until, now or utcnow())

    # The applied routing as the API shows it.

    @property
    def version_id(self) -> str | None:
        return (self.applied_state or {}).get("versionId")

    @property
    def additional_version_weight(self) -> dict[str, float]:
        return dict((self.applied_state or {}).get("additionalVersionWeight") or {})

    @property
    def description(self) -> str | None:
        return (self.applied_state or {}).get("description")

    @property
    def deleted(self) -> bool:
        return self.applied_state is None


class AliasRevision(Base):
    """One recorded routing of an alias: immutable, numbered 1, 2, 3, ... per alias."""

    __tablename__ = "alias_revisions"
    __table_args__ = (UniqueConstraint("alias_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias_id: Mapped[int] = mapped_column(ForeignKey("aliases.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # {versionId, additionalVersionWeight, description}; None: the alias was deleted.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    source: Mapped[AliasSource] = mapped_column(EnumText(AliasSource))
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def version_id(self) -> str | None:
        return (self.state or {}).get("versionId")

    @property
    def additional_version_weight(self) -> dict[str, float]:
        return dict((self.state or {}).get("additionalVersionWeight") or {})
