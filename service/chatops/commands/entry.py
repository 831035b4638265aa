"""Where the platform layer's two calls land (re-exported by the package)."""

from __future__ import annotations

import logging

from service.auth.schemas import Scope
from service.chatops.audit import EventKind, EventOutcome, Trace, record
from service.chatops.commands import decisions
from service.chatops.commands.authorize import (
    channel_refusal,
    grant_for,
    principal_for,
    scope_refusal,
)
from service.chatops.commands.context import Context, Result
from service.chatops.commands.registry import execute, understand
from service.chatops.contract import (
    ActionRequest,
    ChatUser,
    CommandRequest,
    Integration,
    Reply,
    ReplyTarget,
)
from service.state import AppState

__all__ = ["decide", "run_command"]

log = logging.getLogger(__name__)


def _refused(text: str, approval_id: str | None = None) -> Result:
    reply = Reply(title="Not allowed", text=text, tone="error", in_channel=False)
    return Result(
        reply, Trace(EventKind.REFUSAL, EventOutcome.REFUSED, text, approval_id=approval_id)
    )


async def _context(
    state: AppState,
    integration: Integration,
    user: ChatUser,
    reply_to: ReplyTarget | None,
    text: str,
) -> Context:
    grant = await grant_for(state.db, integration, user)
    principal = principal_for(integration, user, grant)
    return Context(state, integration, user, grant, principal, reply_to, text)


async def _audited(ctx: Context, command: str, result: Result) -> Reply:
    try:
        await record(
            ctx.state.db,
            ctx.integration,
            ctx.user,
            command,
            result.trace,
            user_name=ctx.grant.display_name,
        )
    except Exception:  # the answer still goes out; the log says the trail has a gap
        log.exception("chat audit event not recorded: %s %s", ctx.integration.name, command)
    return result.reply


def _broken(what: str) -> Reply:
    log.exception("chat %s failed before it could be answered", what)
    return Reply(
        title="Internal error",
        text=f"fcplane could not process this {what}; it was logged. Try again shortly.",
        tone="error",
        in_channel=False,
    )


async def run_command(state: AppState, request: CommandRequest) -> Reply:
    """Answer one chat command; never raises for bad input (a helpful Reply instead)."""
    try:
        ctx = await _context(
            state, request.integration, request.user, request.reply_to, request.text
        )
    except Exception:
        return _broken("command")
    refusal = channel_refusal(request.integration, request.user.channel_id)
    if refusal is not None:
        return await _audited(ctx, request.text, _refused(refusal))
    command, parsed, early = understand(request.text)
    if early is not None or command is None or parsed is None:
        assert early is not None
        return await _audited(ctx, request.text, early)
    needed = command.needs(parsed)
    if not ctx.grant.allows(needed):
        text = scope_refusal(
            command.spec.name, needed, ctx.grant, request.integration, request.user
        )
        return await _audited(ctx, request.text, _refused(text))
    result = await execute(ctx, command, parsed)
    return await _audited(ctx, request.text, result)


async def decide(state: AppState, request: ActionRequest) -> Reply:
    """Approve or reject one pending approval; never raises for bad input.

    A button press carries no channel on some platforms (DingTalk's approval page):
    then the channel check is the approval's own — it was asked in an allowed one.
    """
    command = f"{request.decision} {request.approval_id}"
    try:
        ctx = await _context(state, request.integration, request.user, request.reply_to, command)
    except Exception:
        return _broken("decision")
    if request.user.channel_id is not None:
        refusal = channel_refusal(request.integration, request.user.channel_id)
        if refusal is not None:
            return await _audited(ctx, command, _refused(refusal, request.approval_id))
    if not ctx.grant.allows(Scope.DEPLOY):
        text = scope_refusal(
            request.decision, Scope.DEPLOY, ctx.grant, request.integration, request.user
        )
        return await _audited(ctx, command, _refused(text, request.approval_id))
    try:
        result = await decisions.decide(ctx, request.approval_id, request.decision)
    except Exception:
        return _broken("decision")
    return await _audited(ctx, command, result)
