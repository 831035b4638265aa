from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from service.models.base import Base, EnumText, UTCDateTime, utcnow
from service.models.function import Function
from service.models.revision import Revision


class DeploymentStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CONFLICT = "conflict"  # refused: the function changed since the base (409)
    INTERRUPTED = "interrupted"  # died after pushing to FC, before recording it


class Strategy(StrEnum):
    """What a deploy does when the function changed since its base revision."""

    FAIL = "fail"  # refuse with 409 and the plan
    USE_LOCAL = "use-local"  # push the request's config anyway
    USE_REMOTE = "use-remote"  # adopt what FC runs as a new revision; push nothing
    MERGE = "merge"  # both sides' changes; 409 only on a real conflict


class DeploymentKind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    APPLY = "apply"  # a saved plan applied


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
    status: Mapped[DeploymentStatus] = mapped_column(EnumText(DeploymentStatus))
    strategy: Mapped[Strategy] = mapped_column(EnumText(Strategy))
    kind: Mapped[DeploymentKind] = mapped_column(
        EnumText(DeploymentKind), default=DeploymentKind.DEPLOY
    )
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
    # sha256 of the request that used the key: a retry must send the same one.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The state being pushed, while the deploy is in progress: a deploy that
    # loses the race to this one is shown what it is deploying.
    pushed_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the strategy left out: local changes not applied (use-remote, merge)
    # and remote changes overwritten (use-local).
    discarded_changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    overwritten_changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    # Loaded by the queries that present a deployment, never lazily.
    function: Mapped[Function] = relationship(lazy="raise")
    # The revision this deployment created (set once it succeeded).
    revision: Mapped[Revision | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(Deployment.function_id) == Revision.function_id,
            foreign(Deployment.to_revision) == Revision.number,
        ),
        viewonly=True,
        lazy="raise",
    )
