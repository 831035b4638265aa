"""Jobs (stress, eval, build) and the HTML reports they leave behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.account import Account
from service.models.base import Base, UTCDateTime, utcnow
from service.models.function import Function


class Job(Base):
    """One run of a job kind in an account, against a function (none for builds).

    A worker owns a running job through a lease (``lease_owner`` until
    ``lease_expires_at``) that its heartbeat renews; a lease left to expire
    means the worker died, and the sweeper retries or fails the job.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
        Index("ix_jobs_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    function_id: Mapped[int | None] = mapped_column(
        ForeignKey("functions.id", ondelete="CASCADE"), index=True
    )
    # queued | running | succeeded | failed | cancelled
    status: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_note: Mapped[str | None] = mapped_column(String(300))
    # The latest live figures of a running job (a stress job's requests, req/s,
    # p50/p99 of the last interval; an eval's step and partial results), written
    # with progress; kept after the job ends as its last snapshot.
    live: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # Attempts started so far (a claim counts one); bounded by FCPLANE_JOB_MAX_ATTEMPTS.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the job last entered the queue: a queued job older than a lease was
    # probably never delivered to a worker and is enqueued again.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))
    # The X-Request-ID of the request that submitted the job: its worker logs carry it.
    request_id: Mapped[str | None] = mapped_column(String(64))

    # Loaded by the queries that present a job, never lazily.
    account: Mapped[Account] = relationship(lazy="raise")
    function: Mapped[Function | None] = relationship(lazy="raise")
    reports: Mapped[list[JobReport]] = relationship(
        lazy="raise", order_by="JobReport.name", viewonly=True
    )
    artifacts: Mapped[list[JobArtifact]] = relationship(
        lazy="raise", order_by="JobArtifact.name", viewonly=True
    )

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None


class JobReport(Base):
    """A stored HTML report ("summary", "locust"), so any replica can serve it."""

    __tablename__ = "job_reports"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobArtifact(Base):
    """A downloadable file a job leaves behind (Locust's CSVs, fcplane's timeline as
    JSON), stored in the database like reports so that any replica can serve it."""

    __tablename__ = "job_artifacts"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    # A file name: "stats.csv", "timeline.json"...
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
