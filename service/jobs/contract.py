"""The seam between the job system (queue, lifecycle, API) and the job kinds (stress, eval,
build).

The job system owns rows, leases, cancellation and storage; a kind only knows
how to do its work given a :class:`JobContext`, and returns a :class:`JobOutcome`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.kit.db import Database
from service.kit.settings import Settings


class Progress(Protocol):
    async def __call__(
        self, fraction: float, note: str, live: dict[str, Any] | None = None
    ) -> None:
        """Persist progress (0..1 and a short note) and, when given, the live figures of
        the run (`live` of GET /v1/jobs/{id}: a stress job's requests and req/s, an
        eval's step and partial results); cheap to call often."""


class JobCancelled(Exception):
    """Raised by JobContext.check_cancelled(); kinds let it propagate after cleaning up."""


@dataclass
class JobContext:
    job_id: str
    # The managed function's name (also its FC name); None for kinds that work on
    # no function (``needs_function = False``: build).
    function: str | None
    access: FcAccess  # credentials + endpoint of the job's (the function's) account
    gateway: FcGateway
    settings: Settings
    progress: Progress
    # Raises JobCancelled once a cancel was requested; call between steps.
    check_cancelled: Callable[[], Awaitable[None]]
    # Is a cancel requested? (for loops that must stop a child process first)
    cancel_requested: Callable[[], Awaitable[bool]]
    # Function facts a kind may need (normalized applied config, HTTP trigger URL...).
    facts: dict[str, Any] = field(default_factory=dict)
    # The database, for kinds that read or store more than their result (build: packages).
    db: Database | None = None

    @property
    def function_name(self) -> str:
        """The function of a kind that needs one (the job system guarantees it is set)."""
        if self.function is None:
            raise RuntimeError(f"job {self.job_id} has no function")
        return self.function


@dataclass(frozen=True)
class Artifact:
    """A file a job keeps for download (GET /v1/jobs/{id}/artifacts/{name}): Locust's CSVs,
    the per-second timeline as JSON/CSV, an eval's samples."""

    media_type: str  # e.g. "text/csv", "application/json"
    content: bytes


@dataclass
class JobOutcome:
    result: dict[str, Any]  # the `result` JSON of GET /v1/jobs/{id}
    # Stored HTML reports by name: "summary" (GET /v1/jobs/{id}/report) and, for
    # stress, "locust" (GET /v1/jobs/{id}/report/locust).
    reports: dict[str, str] = field(default_factory=dict)
    # Downloadable files by name ("stats.csv", "timeline.json"...), stored with the
    # result when the job finishes. Names are file names: [A-Za-z0-9._-], <= 100 chars.
    artifacts: dict[str, Artifact] = field(default_factory=dict)


def needs_function(kind: JobKind) -> bool:
    """Whether jobs of ``kind`` name a function (a kind says otherwise with a class attribute
    ``needs_function = False``; then `validate` gets the account's facts only)."""
    return bool(getattr(kind, "needs_function", True))


class JobKind(Protocol):
    name: str  # "stress" | "eval-spec" | "eval-concurrency" | "build"
    params_model: type[BaseModel]  # validated before anything is queued (422 on bad input)
    result_model: type[BaseModel]  # JobOutcome.result, validated (and stored) through it

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        """Checks that need the function (e.g. HTTP mode without an HTTP trigger): raise
        service.kit.errors.InvalidInput naming the field."""
        ...

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome: ...
