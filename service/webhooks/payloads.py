"""The body of each event a `standard` subscription receives, as models.

They document the OpenAPI `webhooks` section (see :mod:`service.webhooks.catalog`)
and let tests check that what fcplane emits is what it documents; nothing on the
delivery path builds them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from service.evals.schemas import ConcurrencyRecommendation, SpecRecommendation
from service.functions.schemas import Change, Conflict
from service.jobs.schemas import JobStatus
from service.kit.openapi import ErrorDetail, absent_when_none
from service.models.deployment import DeploymentKind, DeploymentStatus, Strategy
from service.models.drift import Resolution
from service.models.release import AliasSource
from service.webhooks.schemas import EventType


class WebhookMessage(BaseModel):
    """The JSON body of a `standard` delivery.

    Signed as Standard Webhooks specifies: headers `webhook-id` (the same on
    every retry of one event: deduplicate by it), `webhook-timestamp` and
    `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    A function's events arrive in the order they were committed. Values under
    secret-looking keys of `data` are `***`.
    """

    type: EventType = Field(description="What happened.")
    timestamp: str = Field(description="When it happened (RFC 3339, UTC).")
    account: str | None = Field(description="The function's account alias.")
    function: str | None = Field(description="The function's name within its account.")
    actor: str | None = Field(description="The token that caused it; null for the scheduler.")
    link: str | None = Field(description="Where to see it in fcplane's API (a URL).")
    summary: str = Field(description="A one-line human title.")


_ALIAS = "Set when the drift is an alias's (its routing changed in FC)."


class DriftOpenedData(BaseModel):
    event_id: int = Field(description="The drift event (GET /v1/drift-events/{id}).")
    changes: list[Change] = Field(description="`base`: what fcplane applied; `value`: FC's.")
    interrupted_deployment: str | None = Field(
        description="A deployment that pushed to FC but died before recording it."
    )
    alias: str | SkipJsonSchema[None] = absent_when_none(_ALIAS)


class DriftResolvedData(BaseModel):
    event_id: int
    resolution: Resolution
    resolved_by_deployment_id: str | None
    changes: list[Change]
    alias: str | SkipJsonSchema[None] = absent_when_none(_ALIAS)


class DeploymentData(BaseModel):
    deployment_id: str
    kind: DeploymentKind
    strategy: Strategy
    status: DeploymentStatus
    base_revision: int | None
    from_revision: int
    to_revision: int | None
    message: str | None


class DeploySucceededData(DeploymentData):
    changes: list[Change] = Field(description="What the deploy changed.")
    discarded_changes: list[Change] = Field(
        description="Local changes the strategy did not apply (use-remote, merge)."
    )
    overwritten_changes: list[Change] = Field(
        description="Remote changes the strategy replaced (use-local)."
    )


class DeployFailedData(DeploymentData):
    error: ErrorDetail


class DeployConflictData(DeploymentData):
    drifted: bool
    local_changes: list[Change]
    remote_changes: list[Change]
    conflicts: list[Conflict]


class JobFinishedData(BaseModel):
    job_id: str
    kind: str = Field(description="`stress`, `eval-spec` or `eval-concurrency`.")
    status: JobStatus
    message: str
    attempts: int
    error: str | SkipJsonSchema[None] = absent_when_none("Why it failed.")
    recommendation: SpecRecommendation | ConcurrencyRecommendation | None = Field(
        None, description="Eval jobs only: the recommendation (null when nothing qualified)."
    )
    headline: dict[str, Any] | SkipJsonSchema[None] = absent_when_none(
        "Succeeded stress and eval jobs: the figures to quote. Stress: `requests`, `rps`, "
        "`p99_ms` (of `p99_phase`, the steady state) and `failures`; eval: the "
        "`recommendation` and `saving_vs_live_pct` when measured."
    )
    report_url: str | SkipJsonSchema[None] = absent_when_none(
        "Succeeded jobs that stored a report (stress, evals; not builds): a signed link to "
        "the HTML report that opens without a token until it expires "
        "(FCPLANE_REPORT_LINK_TTL_SECONDS)."
    )


class VersionPublishedData(BaseModel):
    version_id: str
    description: str
    from_revision: int = Field(description="The function revision FC ran when it was published.")


class AliasUpdatedData(BaseModel):
    alias: str
    revision: int = Field(description="The alias's own revision.")
    source: AliasSource
    message: str | None
    deleted: bool
    changes: list[Change]
    overwritten_changes: list[Change] = Field(
        description="Console edits of the alias this change replaced (use-local)."
    )


class DriftOpenedEvent(WebhookMessage):
    type: Literal[EventType.DRIFT_OPENED]
    data: DriftOpenedData


class DriftResolvedEvent(WebhookMessage):
    type: Literal[EventType.DRIFT_RESOLVED]
    data: DriftResolvedData


class DeploySucceededEvent(WebhookMessage):
    type: Literal[EventType.DEPLOY_SUCCEEDED]
    data: DeploySucceededData


class DeployFailedEvent(WebhookMessage):
    type: Literal[EventType.DEPLOY_FAILED]
    data: DeployFailedData


class DeployConflictEvent(WebhookMessage):
    type: Literal[EventType.DEPLOY_CONFLICT]
    data: DeployConflictData


class JobFinishedEvent(WebhookMessage):
    type: Literal[EventType.JOB_FINISHED]
    data: JobFinishedData


class VersionPublishedEvent(WebhookMessage):
    type: Literal[EventType.VERSION_PUBLISHED]
    data: VersionPublishedData


class AliasUpdatedEvent(WebhookMessage):
    type: Literal[EventType.ALIAS_UPDATED]
    data: AliasUpdatedData


EVENT_MODELS: dict[EventType, type[WebhookMessage]] = {
    EventType.DRIFT_OPENED: DriftOpenedEvent,
    EventType.DRIFT_RESOLVED: DriftResolvedEvent,
    EventType.DEPLOY_SUCCEEDED: DeploySucceededEvent,
    EventType.DEPLOY_FAILED: DeployFailedEvent,
    EventType.DEPLOY_CONFLICT: DeployConflictEvent,
    EventType.JOB_FINISHED: JobFinishedEvent,
    EventType.VERSION_PUBLISHED: VersionPublishedEvent,
    EventType.ALIAS_UPDATED: AliasUpdatedEvent,
}
# The `data` of each event.
EVENT_DATA: dict[EventType, type[BaseModel]] = {
    EventType.DRIFT_OPENED: DriftOpenedData,
    EventType.DRIFT_RESOLVED: DriftResolvedData,
    EventType.DEPLOY_SUCCEEDED: DeploySucceededData,
    EventType.DEPLOY_FAILED: DeployFailedData,
    EventType.DEPLOY_CONFLICT: DeployConflictData,
    EventType.JOB_FINISHED: JobFinishedData,
    EventType.VERSION_PUBLISHED: VersionPublishedData,
    EventType.ALIAS_UPDATED: AliasUpdatedData,
}
