"""Chat integrations and their user mappings, as the admin API takes and shows them.

Secrets go in and never come out: responses carry ``has_…`` flags instead.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StrictBool, StrictInt

from service.auth.schemas import Scope
from service.webhooks.url_safety import check_url_syntax

INTEGRATION_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class ChatPlatform(StrEnum):
    SLACK = "slack"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class DefaultScope(StrEnum):
    READ = "read"


Name = Annotated[
    str,
    Field(
        pattern=INTEGRATION_NAME,
        description="Lower-case name, part of the inbound URLs (`/v1/chat/slack/{name}/...`).",
    ),
]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=512)]
ApiBaseUrl = Annotated[
    str,
    Field(
        max_length=300,
        json_schema_extra={"format": "uri"},
        description="Feishu only: where its open-apis are (default https://open.feishu.cn; "
        "https://open.larksuite.com for Lark). Calls to it follow the webhook destination "
        "rules (FCPLANE_WEBHOOK_ALLOWED_HOSTS).",
    ),
    AfterValidator(check_url_syntax),
]
Channel = Annotated[str, Field(min_length=1, max_length=128)]
Channels = Annotated[
    list[Channel] | None,
    Field(
        max_length=500,
        description="Conversation ids (Slack channel_id, DingTalk conversationId, Feishu "
        "chat_id) commands are taken from; null: any conversation.",
    ),
]
ApprovalTtl = Annotated[
    StrictInt, Field(ge=60, le=7 * 86400, description="How long an approval request stays open.")
]
SECRET_HELP = (
    "slack: the app's Signing Secret; dingtalk: the app robot's AppSecret; feishu: the "
    "app's Encrypt Key. Stored encrypted, never returned."
)


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    platform: ChatPlatform
    secret: Secret = Field(description=SECRET_HELP)
    verification_token: Secret | None = Field(
        None, description="feishu only: the app's Verification Token (checked on every event)."
    )
    app_id: str | None = Field(
        None, min_length=1, max_length=128, description="feishu only: the App ID (cli_...)."
    )
    app_secret: Secret | None = Field(
        None, description="feishu only: the App Secret, which buys the token replies need."
    )
    api_base_url: ApiBaseUrl | None = None
    default_scope: DefaultScope | None = Field(
        DefaultScope.READ,
        description="What users without a mapping may do: `read`, or null for nothing.",
    )
    channels: Channels = None
    require_second_approver: StrictBool = Field(
        True, description="A change must be approved by someone other than who asked for it."
    )
    approval_ttl_seconds: ApprovalTtl = 900
    enabled: StrictBool = True


class IntegrationUpdate(BaseModel):
    """Fields to change; omitted ones stay. `channels: null` opens every conversation."""

    model_config = ConfigDict(extra="forbid")

    secret: Secret | None = Field(None, description=SECRET_HELP)
    verification_token: Secret | None = None
    app_id: str | None = Field(None, min_length=1, max_length=128)
    app_secret: Secret | None = None
    api_base_url: ApiBaseUrl | None = None
    default_scope: DefaultScope | None = Field(
        None, description="`read`, or null (when given explicitly) for nothing."
    )
    channels: Channels = None
    require_second_approver: StrictBool | None = None
    approval_ttl_seconds: ApprovalTtl | None = None
    enabled: StrictBool | None = None


class IntegrationOut(BaseModel):
    id: int
    name: str
    platform: ChatPlatform
    has_secret: bool
    has_verification_token: bool
    app_id: str | None
    has_app_secret: bool
    api_base_url: str | None
    default_scope: DefaultScope | None
    channels: list[str] | None
    require_second_approver: bool
    approval_ttl_seconds: int
    enabled: bool
    inbound_urls: list[str] = Field(
        description="Paths to configure on the platform (after fcplane's public URL)."
    )
    created_by: str | None
    created_at: datetime


class ChatUserPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope = Field(description="What this user may do through the integration.")
    display_name: str | None = Field(
        None, min_length=1, max_length=100, description="Shown as the actor (`slack:alice`)."
    )


class ChatUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    platform_user_id: str = Field(
        description="The platform's stable user id (Slack user_id, DingTalk senderStaffId, "
        "Feishu open_id)."
    )
    scope: Scope
    display_name: str | None
    created_by: str | None
    created_at: datetime
