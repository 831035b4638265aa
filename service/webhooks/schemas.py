from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AliasPath, BaseModel, ConfigDict, Field, SecretStr

from service.webhooks.url_safety import check_url_syntax

# A function name, optionally after its account alias: hello, prod/hello.
FUNCTION_FILTER = r"^([a-z0-9][a-z0-9_-]{0,63}/)?[A-Za-z_][A-Za-z0-9_-]{0,63}$"


class EventType(StrEnum):
    DRIFT_OPENED = "drift.opened"
    DRIFT_RESOLVED = "drift.resolved"
    DEPLOY_SUCCEEDED = "deploy.succeeded"
    DEPLOY_FAILED = "deploy.failed"
    DEPLOY_CONFLICT = "deploy.conflict"
    JOB_FINISHED = "job.finished"
    VERSION_PUBLISHED = "version.published"
    ALIAS_UPDATED = "alias.updated"


# Sent by POST /v1/webhooks/{id}/test only; nobody subscribes to it.
TEST_EVENT = "webhook.test"


class Format(StrEnum):
    STANDARD = "standard"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SLACK = "slack"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    DISABLED = "disabled"


WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        json_schema_extra={"format": "uri"},
        description="http(s) URL without credentials; for robots, the robot's webhook URL.",
    ),
    AfterValidator(check_url_syntax),
]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EventType), description="Event types to send."),
]
Functions = Annotated[
    list[Annotated[str, Field(pattern=FUNCTION_FILTER, max_length=129)]] | None,
    Field(
        max_length=200,
        description="Only events about these functions, each a name (in any account) or "
        "`account/name`; omitted: all.",
    ),
]
Secret = Annotated[
    SecretStr,
    Field(
        min_length=1,
        max_length=256,
        description="standard: `whsec_` + base64 of 24-64 random bytes (generated when "
        "omitted); dingtalk: the robot's `SEC...` signing secret; feishu: the robot's signing "
        "secret; slack: not allowed (incoming webhooks are not signed).",
    ),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    events: Events
    format: Format = Format.STANDARD
    functions: Functions = None
    secret: Secret | None = None


class WebhookUpdate(BaseModel):
    """Fields to change; omitted ones stay. `functions: null` means every function."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    events: Events | None = None
    functions: Functions = None
    active: bool | None = Field(None, description="false pauses deliveries; true resumes them.")
    secret: Secret | None = Field(
        None, description="Robots only: the robot's new signing secret (standard: rotate-secret)."
    )


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    url: str = Field(
        validation_alias="url_redacted",
        description="Redacted: query values and robot tokens are masked.",
    )
    format: Format
    events: list[EventType]
    functions: list[str] | None
    active: bool
    disabled_reason: str | None
    has_secret: bool
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries also carry a signature with the rotated-out secret."
    )
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str | None = Field(
        description="standard: the signing secret, shown only in this response; robots: null."
    )


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: Secret | None = Field(None, description="The new secret; generated when omitted.")
    grace_seconds: int | None = Field(
        None,
        ge=0,
        le=30 * 86400,
        description="How long the old secret keeps signing too; default "
        "FCPLANE_WEBHOOK_SECRET_GRACE_SECONDS. 0 drops it at once.",
    )


class SecretRotated(BaseModel):
    id: int
    secret: str = Field(description="The new signing secret, shown only in this response.")
    previous_secret_expires_at: datetime | None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    outcome: Outcome
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int = Field(validation_alias="subscription_id")
    event_id: str = Field(
        validation_alias=AliasPath("event", "uid"),
        description="Sent as `webhook-id`; the same on every attempt.",
    )
    event_type: str = Field(validation_alias=AliasPath("event", "type"))
    account: str | None = Field(validation_alias=AliasPath("event", "account"))
    function: str | None = Field(validation_alias=AliasPath("event", "function"))
    status: DeliveryStatus
    attempts: int = Field(description="Attempts in the current round (reset by redeliver).")
    next_attempt_at: datetime | None = Field(
        validation_alias="next_attempt_due", description="When pending: the next attempt."
    )
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]
