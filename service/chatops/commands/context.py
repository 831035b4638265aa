"""What a command handler gets (who asks, with what scope, the services to act through)
and what it returns (the reply and its audit trace); naming what a command is about.

Handlers call the same services the API's routers call, built the same way, with
the chat user's principal name as the author: nothing here re-implements a deploy,
a plan or a job.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from service.accounts.service import AccountService
from service.auth.principal import Principal
from service.chatops.audit import EventKind, EventOutcome, Trace
from service.chatops.commands.authorize import Grant
from service.chatops.contract import ChatUser, Integration, Reply, ReplyTarget
from service.deploys.service import DeployService
from service.drift.service import DriftService
from service.functions.service import FunctionService
from service.jobs.service import JobService
from service.kit.errors import NotFound
from service.models.function import FunctionRef
from service.projects.builds import build_setup
from service.projects.service import ProjectService
from service.state import AppState

# How many names are looked through for "did you mean" suggestions.
_SUGGESTION_POOL = 200


@dataclass
class Context:
    state: AppState
    integration: Integration
    user: ChatUser
    grant: Grant
    principal: Principal
    reply_to: ReplyTarget | None
    text: str

    @property
    def actor(self) -> str:
        return self.principal.name

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.state.settings.deploy_lease_seconds)

    def deploys(self) -> DeployService:
        s = self.state
        return DeployService(s.db, s.secret_box, s.gateway, self._lease)

    def functions(self) -> FunctionService:
        return FunctionService(self.state.db, self.state.secret_box, self.state.gateway)

    def projects(self) -> ProjectService:
        s = self.state
        return ProjectService(s.db, s.secret_box, s.gateway, self._lease, build_setup(s.settings))

    def drift(self) -> DriftService:
        return DriftService(self.state.db, self.state.secret_box, self.state.gateway)

    def jobs(self) -> JobService:
        s = self.state
        return JobService(s.db, s.secret_box, s.gateway, s.settings)

    def link(self, path: str) -> str | None:
        """An absolute link to an API path, when fcplane knows its public URL."""
        base = self.state.settings.public_url
        return f"{base.rstrip('/')}{path}" if base else None


@dataclass
class Result:
    reply: Reply
    trace: Trace


def done(
    reply: Reply,
    outcome: EventOutcome = EventOutcome.OK,
    detail: str | None = None,
    **ids: str | None,
) -> Result:
    return Result(reply, Trace(EventKind.COMMAND, outcome, detail, **ids))


def failed(title: str, text: str, outcome: EventOutcome = EventOutcome.FAILED) -> Result:
    """A command that could not do what was asked, explained (never an exception)."""
    return Result(
        Reply(title=title, text=text, tone="error"), Trace(EventKind.COMMAND, outcome, text)
    )


class Unresolved(Exception):
    """A name that is no function or project; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    kind: Literal["function", "project"]
    ref: FunctionRef | None = None
    project: str | None = None
    candidates: list[str] = field(default_factory=list)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    if close:
        return " Did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    return " Try `help`, or `status <function>` with a name fcplane manages."


async def _function_names(ctx: Context, account: str | None) -> list[str]:
    functions = await ctx.functions().page(account, None, _SUGGESTION_POOL)
    return [f.name for f in functions]


async def _project_names(ctx: Context) -> list[str]:
    return [p.name for p in await ctx.projects().page(None, _SUGGESTION_POOL)]


async def resolve_function(ctx: Context, name: str, account: str | None) -> FunctionRef:
    """The function ``name`` means: in ``account`` when given; else in the default
    account, else in the only account that has a function of that name."""
    if account is not None:
        try:
            await AccountService(ctx.state.db, ctx.state.secret_box).get(account)
        except NotFound:
            raise Unresolved(f"there is no account `{account}`.") from None
        ref = FunctionRef(account, name)
        try:
            await ctx.functions().get(ref)
        except NotFound:
            known = await _function_names(ctx, account)
            raise Unresolved(
                f"fcplane manages no function `{name}` in account `{account}`."
                + _suggest(name, known)
            ) from None
        return ref
    everywhere = await ctx.functions().page(None, None, _SUGGESTION_POOL)
    holders = sorted(f.account.alias for f in everywhere if f.name == name)
    if not holders:
        raise Unresolved(
            f"fcplane manages no function `{name}`." + _suggest(name, [f.name for f in everywhere])
        )
    if len(holders) == 1:
        return FunctionRef(holders[0], name)
    accounts = await AccountService(ctx.state.db, ctx.state.secret_box).list(None, 100)
    default_alias = next((a.alias for a in accounts if a.is_default), None)
    if default_alias in holders:
        return FunctionRef(default_alias, name)
    raise Unresolved(
        f"`{name}` exists in several accounts ({', '.join(holders)}): add `--account <alias>`."
    )


async def resolve_target(ctx: Context, name: str, account: str | None) -> Target:
    """A function, else a project of that name (``project:NAME`` forces a project)."""
    if name.startswith("project:"):
        return await _project(ctx, name.removeprefix("project:"))
    try:
        return Target(
            "function", ref=await resolve_function(ctx, name.removeprefix("function:"), account)
        )
    except Unresolved as function_error:
        if name.startswith("function:") or account is not None:
            raise
        try:
            return await _project(ctx, name)
        except Unresolved:
            known = await _project_names(ctx) + await _function_names(ctx, None)
            raise Unresolved(
                f"`{name}` is neither a function nor a project fcplane manages."
                + _suggest(name, known)
            ) from function_error


async def _project(ctx: Context, name: str) -> Target:
    try:
        await ctx.projects().get(name)
    except NotFound:
        raise Unresolved(
            f"there is no project `{name}`." + _suggest(name, await _project_names(ctx))
        ) from None
    return Target("project", project=name)
