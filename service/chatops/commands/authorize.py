"""Who may do what from chat.

A chat user's scope is their mapping for the integration (``/v1/chat-integrations/
{id}/users``: platform user id → read, deploy or admin); a user without one gets
the integration's ``default_scope`` (read, or nothing). Commands are taken only
from the integration's ``channels`` when it lists any.

What the user does runs as a :class:`Principal` built for them — named after the
platform user (``slack:U123 (alice)``), so revisions, deployments and webhook
events carry the chat user as the actor — holding exactly the mapped scope, never
more. The platform's stable user id, not the display name anyone can change,
decides; the name is only shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.auth.principal import SCOPE_RANK, Principal
from service.auth.schemas import Scope
from service.chatops.contract import ChatUser, Integration
from service.chatops.repository import ChatUserRepository
from service.kit.db import Database

# Principal.token_id of a chat user: no API token stands behind them.
CHAT_TOKEN_ID = 0
_MAX_ACTOR = 100  # revisions.created_by, deployments.created_by


@dataclass(frozen=True)
class Grant:
    """What one chat user may do through one integration."""

    scope: Scope | None
    # The mapping's display name (set by an admin) before the platform's.
    display_name: str | None
    mapped: bool

    def allows(self, needed: Scope | None) -> bool:
        if needed is None:
            return True
        return self.scope is not None and SCOPE_RANK[self.scope] >= SCOPE_RANK[needed]

    @property
    def shown(self) -> str:
        return self.scope.value if self.scope is not None else "none"


def actor_name(integration: Integration, user: ChatUser, display_name: str | None) -> str:
    """``slack:U123 (alice)``: the platform, the stable user id and a readable name."""
    name = f"{integration.platform}:{user.platform_user_id}"
    if display_name and display_name != user.platform_user_id:
        name += f" ({display_name})"
    return name[:_MAX_ACTOR]


async def grant_for(db: Database, integration: Integration, user: ChatUser) -> Grant:
    async with db.read() as session:
        mapping = await ChatUserRepository(session).get((integration.id, user.platform_user_id))
    if mapping is not None:
        return Grant(Scope(mapping.scope), mapping.display_name or user.display_name, True)
    return Grant(integration.default_scope, user.display_name, False)


def principal_for(integration: Integration, user: ChatUser, grant: Grant) -> Principal:
    """The chat user as a principal holding exactly their scope (none: no scopes)."""
    scopes = frozenset({grant.scope}) if grant.scope is not None else frozenset()
    return Principal(CHAT_TOKEN_ID, actor_name(integration, user, grant.display_name), scopes)


def channel_refusal(integration: Integration, channel: str | None) -> str | None:
    """Why a command from ``channel`` is not taken, or None when it is."""
    if integration.channels is None or channel in integration.channels:
        return None
    return (
        "this integration takes commands only in its allowed channels; this one is not "
        "among them (an admin can add it to the integration's `channels`)"
    )


def scope_refusal(
    command: str, needed: Scope, grant: Grant, integration: Integration, user: ChatUser
) -> str:
    how = "your mapping" if grant.mapped else "the integration's default for unmapped users"
    return (
        f"`{command}` needs the `{needed.value}` scope; you have `{grant.shown}` ({how}). "
        f"An admin can map you: PUT /v1/chat-integrations/{integration.id}/users/"
        f"{user.platform_user_id}"
    )


__all__ = [
    "CHAT_TOKEN_ID",
    "Grant",
    "actor_name",
    "channel_refusal",
    "grant_for",
    "principal_for",
    "scope_refusal",
]
