"""The seam between the platforms (how a request from Slack, DingTalk or Feishu is
verified, parsed and answered) and the commands (what fcplane does for it).

A platform endpoint verifies the request, turns it into a :class:`CommandRequest` or
an :class:`ActionRequest` and hands it to the command layer
(``service.chatops.commands.run_command`` / ``decide``), which authorizes, acts,
records the audit event and returns a platform-neutral :class:`Reply`. The platform
layer renders the reply in its own format (``service.chatops.render``) and delivers
it (``response_url``, ``sessionWebhook``, Feishu's reply API or the HTTP response).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from service.auth.schemas import Scope

Platform = Literal["slack", "dingtalk", "feishu"]
Tone = Literal["info", "success", "warning", "error"]
Decision = Literal["approve", "reject"]


@dataclass(frozen=True)
class Integration:
    """What the command layer knows of an integration (never its secrets)."""

    id: int
    name: str
    platform: Platform
    # What users without a mapping may do: Scope.READ or None (nothing).
    default_scope: Scope | None
    require_second_approver: bool
    approval_ttl_seconds: int
    # Conversation ids commands are taken from; None: any.
    channels: frozenset[str] | None


@dataclass(frozen=True)
class ChatUser:
    """Who sent the command: the platform's stable user id (never a display name,
    which anyone can change), a display name for messages, and the conversation."""

    platform_user_id: str
    display_name: str | None
    channel_id: str | None


@dataclass(frozen=True)
class ReplyTarget:
    """Where an asynchronous answer (or an edit of the approval message) goes."""

    kind: Literal["slack_response_url", "dingtalk_session_webhook", "feishu_message"]
    url: str | None = None  # Slack's response_url, DingTalk's sessionWebhook
    message_id: str | None = None  # Feishu: the message to reply to / the card to update
    expires_at: datetime | None = None  # sessionWebhookExpiredTime; response_url: +30 min


@dataclass(frozen=True)
class CommandRequest:
    integration: Integration
    user: ChatUser
    # The command text without the slash command or the robot's mention:
    # "plan hello --env prod", "rollback hello 12", "approve 4f2c...".
    text: str
    reply_to: ReplyTarget | None
    received_at: datetime


@dataclass(frozen=True)
class ActionRequest:
    """A button press (Slack block action, Feishu card action) or an approval page's
    submit (DingTalk): approve or reject one approval."""

    integration: Integration
    user: ChatUser
    approval_id: str
    decision: Decision
    reply_to: ReplyTarget | None
    received_at: datetime


@dataclass(frozen=True)
class Button:
    label: str
    decision: Decision
    approval_id: str
    # DingTalk's ActionCard buttons can only open links: the signed, one-time
    # approval page for this approval and decision. None on Slack and Feishu.
    url: str | None = None
    # Slack/Feishu confirm dialog text ("Deploy hello to prod?").
    confirm: str | None = None


@dataclass
class Reply:
    """A platform-neutral answer; each platform renders it (blocks, markdown, card)."""

    title: str
    text: str = ""  # markdown-ish body: plan text, explanations (kept short)
    tone: Tone = "info"
    fields: list[tuple[str, str]] = field(default_factory=list)  # key facts
    # A table (the plan's change table): header row first.
    table: list[list[str]] | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, absolute URL)
    buttons: list[Button] = field(default_factory=list)
    # Visible to the channel (True) or to the sender only where the platform can.
    in_channel: bool = True
