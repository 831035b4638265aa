"""The chat-ops command layer: parse a chat command, authorize it, act through the
existing services, record the audit event and answer with a platform-neutral Reply.

The platform layer (Slack, DingTalk, Feishu endpoints) calls exactly two functions:
:func:`run_command` for a typed command and :func:`decide` for an approval button.
Neither raises for anything a user can type or click: every outcome, refusals and
failures included, is a :class:`Reply` and one audit event.

The package's own modules (its repository among them) are imported by
``service.chatops.approvals`` and ``service.chatops.audit``, which the commands
use in turn: the entry points import the commands when first called, so importing
this package never goes round in a circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.chatops.contract import ActionRequest, CommandRequest, Reply
    from service.state import AppState

__all__ = ["decide", "run_command"]


async def run_command(state: AppState, request: CommandRequest) -> Reply:
    """Answer one chat command; never raises for bad input (a helpful Reply instead)."""
    from service.chatops.commands.entry import run_command as run

    return await run(state, request)


async def decide(state: AppState, request: ActionRequest) -> Reply:
    """Approve or reject one pending approval; never raises for bad input."""
    from service.chatops.commands.entry import decide as run

    return await run(state, request)
