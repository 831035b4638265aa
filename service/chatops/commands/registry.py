"""The commands, the scope each needs, and dispatch: parse → authorize → act → audit.

Scopes (the API's for the same operations, so chat never grants more than a token
with the user's scope would have):

=========================  ========  =============================================
command                    scope     why
=========================  ========  =============================================
help, status, jobs         read      reads only
drift [fn]                 read      the last check's result (open drift events)
drift [fn] --check         deploy    reads FC now and records drift (POST …/drift-check)
plan                       deploy    reads FC with the account's keys and records the
                                     drift it sees (POST …/plan needs deploy)
deploy, rollback           deploy    only asks: nothing changes before an approval
stress                     deploy    loads the function (POST /v1/jobs)
approve, reject            deploy    applying needs what deploying needs
=========================  ========  =============================================
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from service.auth.schemas import Scope
from service.chatops.audit import EventKind, EventOutcome, Trace
from service.chatops.commands import changes, decisions, plans, read, stress
from service.chatops.commands.context import Context, Result, Unresolved, done
from service.chatops.commands.grammar import GrammarError, Parsed, Spec, parse, split
from service.chatops.contract import Reply
from service.kit.errors import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[Context, Parsed], Awaitable[Result]]


@dataclass(frozen=True)
class Command:
    spec: Spec
    scope: Scope
    handler: Handler
    # Flags that need more than ``scope`` (drift --check reads FC and records).
    stronger: dict[str, Scope] = field(default_factory=dict)

    def needs(self, parsed: Parsed) -> Scope:
        needed = [s for flag, s in self.stronger.items() if parsed.has(flag)]
        return max([self.scope, *needed], key=lambda s: ["read", "deploy", "admin"].index(s.value))


HELP_SPEC = Spec("help", "the commands and what you may run", optional=("command",))


async def _help(ctx: Context, parsed: Parsed) -> Result:
    asked = parsed.arg(0)
    if asked is not None:
        command = COMMANDS.get(asked.lower())
        if command is None:
            return done(_unknown_reply(asked))
        lines = [f"`{command.spec.usage}`", command.spec.summary]
        lines += [f"`--{f.name}`: {f.help}" for f in command.spec.flags]
        reply = Reply(
            title=f"help {command.spec.name}",
            text="\n".join(lines),
            fields=[("scope", command.scope.value)],
        )
        return done(reply)
    rows = [["command", "scope", "what"]]
    for command in COMMANDS.values():
        mark = "" if ctx.grant.allows(command.scope) else " (not for you)"
        rows.append([command.spec.usage, command.scope.value + mark, command.spec.summary])
    text = (
        f"You have the `{ctx.grant.shown}` scope here. `deploy` and `rollback` ask for an "
        "approval first; nothing changes until someone approves."
    )
    return done(Reply(title="fcplane commands", text=text, table=rows, in_channel=False))


COMMANDS: dict[str, Command] = {
    c.spec.name: c
    for c in (
        Command(HELP_SPEC, Scope.READ, _help),
        Command(read.STATUS, Scope.READ, read.status),
        Command(plans.PLAN_SPEC, Scope.DEPLOY, plans.plan),
        Command(changes.DEPLOY_SPEC, Scope.DEPLOY, changes.deploy),
        Command(read.DRIFT, Scope.READ, read.drift, {"check": Scope.DEPLOY}),
        Command(changes.ROLLBACK_SPEC, Scope.DEPLOY, changes.rollback),
        Command(stress.STRESS_SPEC, Scope.DEPLOY, stress.stress),
        Command(read.JOBS, Scope.READ, read.jobs),
        Command(decisions.APPROVE_SPEC, Scope.DEPLOY, decisions.approve),
        Command(decisions.REJECT_SPEC, Scope.DEPLOY, decisions.reject),
    )
}


def _unknown_reply(name: str) -> Reply:
    close = difflib.get_close_matches(name.lower(), list(COMMANDS), n=2, cutoff=0.5)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return Reply(
        title=f"Unknown command `{name}`",
        text=f"fcplane has no command `{name}`.{hint} Type `help` for the commands.",
        tone="error",
        in_channel=False,
    )


def understand(text: str) -> tuple[Command | None, Parsed | None, Result | None]:
    """(command, parsed, None), or (None, None, the reply explaining what is wrong)."""
    try:
        words = split(text)
    except GrammarError as exc:
        return None, None, _grammar_failure(exc)
    if not words:
        words = ["help"]
    command = COMMANDS.get(words[0].lower())
    if command is None:
        reply = _unknown_reply(words[0])
        return None, None, Result(reply, Trace(EventKind.COMMAND, EventOutcome.FAILED, reply.text))
    try:
        return command, parse(words[1:], command.spec), None
    except GrammarError as exc:
        return command, None, _grammar_failure(exc)


def _grammar_failure(exc: GrammarError) -> Result:
    text = exc.message + "."
    if exc.usage:
        text += f"\nUsage: `{exc.usage}`"
    reply = Reply(title="Cannot read that command", text=text, tone="error", in_channel=False)
    return Result(reply, Trace(EventKind.COMMAND, EventOutcome.FAILED, exc.message))


async def execute(ctx: Context, command: Command, parsed: Parsed) -> Result:
    """Run an authorized command; whatever goes wrong becomes a reply, never an exception."""
    try:
        return await command.handler(ctx, parsed)
    except GrammarError as exc:
        return _grammar_failure(exc)
    except Unresolved as exc:
        reply = Reply(title="Not found", text=exc.message, tone="error")
        return Result(reply, Trace(EventKind.COMMAND, EventOutcome.FAILED, exc.message))
    except DomainError as exc:
        text = exc.detail
        errors = exc.extra.get("errors")
        if isinstance(errors, list):
            text += "".join(
                f"\n• {e.get('field')}: {e.get('message')}"
                for e in errors[:5]
                if isinstance(e, dict)
            )
        reply = Reply(title=f"`{command.spec.name}` failed ({exc.code})", text=text, tone="error")
        return Result(
            reply, Trace(EventKind.COMMAND, EventOutcome.FAILED, f"{exc.code}: {exc.detail}")
        )
    except Exception as exc:
        log.exception("chat command %r failed", command.spec.name)
        text = (
            f"`{command.spec.name}` failed on fcplane's side ({type(exc).__name__}); it was logged."
        )
        reply = Reply(title="Internal error", text=text, tone="error")
        return Result(reply, Trace(EventKind.COMMAND, EventOutcome.FAILED, text))
