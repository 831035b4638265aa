"""Projects: an s.yaml and its files as numbered revisions, deployed to accounts.

A project revision keeps the source as submitted (the files, the code packages
each ``code`` path names, the caller's ``env`` values sealed). What the source
*means* depends on where it deploys (``${config('AccountID')}``, env.yaml), so
the resolved document and the function revisions it produced belong to each
project deployment; a target (project, account) remembers the last of them,
which is the base of the next deploy there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.account import Account
from service.models.base import Base, EnumText, UTCDateTime, utcnow


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    head_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectRevision(Base):
    __tablename__ = "project_revisions"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    main: Mapped[str] = mapped_column(String(255))
    # path -> text: the s.yaml and every file it reads.
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    # code path as the s.yaml writes it (normalized) -> uploaded package sha256.
    code: Mapped[dict[str, str]] = mapped_column(JSON)
    # The caller's ${env()} values: sealed; env_shown has them redacted where secret.
    env_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    env_shown: Mapped[dict[str, str]] = mapped_column(JSON)
    # access alias in the s.yaml -> fcplane account alias.
    environments: Mapped[dict[str, str]] = mapped_column(JSON)
    # What the submit-time check found: resources, deploy layers, actions, warnings.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectTarget(Base):
    """Where a project deployed in one account: its last revision there and, per
    resource, the function and the function revision that deploy left."""

    __tablename__ = "project_targets"
    __table_args__ = (UniqueConstraint("project_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # resource name -> {"function": name, "revision": n}
    resources: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON)
    # One project deploy at a time per target (a deploy crashed mid-way frees it at expiry).
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(lazy="raise")


class ProjectDeploymentStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    # Some resources landed, some failed or were skipped: the results say which.
    FAILED = "failed"
    CONFLICT = "conflict"


class ProjectDeployment(Base):
    __tablename__ = "project_deployments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    environment: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ProjectDeploymentStatus] = mapped_column(
        EnumText(ProjectDeploymentStatus), default=ProjectDeploymentStatus.IN_PROGRESS
    )
    strategy: Mapped[str] = mapped_column(String(16))
    # The resolved props per resource (secrets redacted) and what happened to each.
    resolved: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
