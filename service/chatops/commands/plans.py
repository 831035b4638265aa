"""``plan``: what deploying a function's head revision (or a project's head revision to
an environment) would change now, or a saved plan (``--plan ID``) as it was made."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from service.chatops.commands.context import (
    Context,
    Result,
    Target,
    Unresolved,
    done,
    failed,
    resolve_function,
    resolve_target,
)
from service.chatops.commands.grammar import Flag, GrammarError, Parsed, Spec
from service.chatops.commands.read import ACCOUNT
from service.chatops.commands.tables import change_table, plan_text, resource_table
from service.chatops.contract import Reply, Tone
from service.deploys.schemas import PlanOut, PlanRequest
from service.functions.normalize import tags_to_wire
from service.functions.schemas import FunctionConfig
from service.functions.state import props_of
from service.models.deployment import Strategy
from service.models.function import FunctionRef
from service.projects.schemas import ProjectTargetRequest

ENV = Flag("env", "a project's environment (env.yaml); for a function, its account", metavar="E")
PLAN = Flag("plan", "a saved plan's id (made with the API or `fcplane plan --save`)", metavar="ID")
STRATEGY = Flag(
    "strategy", "fail (default), use-local, use-remote or merge, as for an API deploy", metavar="S"
)

PLAN_SPEC = Spec(
    "plan",
    "what a deploy would change now (a saved plan with --plan)",
    optional=("function|project",),
    flags=(ENV, ACCOUNT, PLAN),
)


def account_flag(parsed: Parsed, target_is_project: bool = False) -> str | None:
    """``--account``; for a function ``--env`` names its account too (a project's env
    is its env.yaml environment)."""
    account, env = parsed.flags.get("account"), parsed.flags.get("env")
    if target_is_project or env is None:
        return account
    if account is not None and account != env:
        raise GrammarError("give --account or --env for a function, not both")
    return env


def strategy_flag(parsed: Parsed) -> Strategy:
    raw = parsed.flags.get("strategy", Strategy.FAIL.value)
    try:
        return Strategy(raw)
    except ValueError:
        choices = ", ".join(s.value for s in Strategy)
        raise GrammarError(f"--strategy `{raw}`: choose one of {choices}") from None


async def resolve_named(ctx: Context, name: str, parsed: Parsed) -> Target:
    """A function (``--env``/``--account`` naming its account) or a project (``--env``
    naming its environment)."""
    env, account = parsed.flags.get("env"), parsed.flags.get("account")
    if env is not None and account is None and not name.startswith("project:"):
        try:
            ref = await resolve_function(ctx, name.removeprefix("function:"), env)
            return Target("function", ref=ref)
        except Unresolved:
            pass  # not a function in an account of that name: a project's environment
    return await resolve_target(ctx, name, account if env is None else account_flag(parsed, True))


async def head_plan(
    ctx: Context, ref: FunctionRef, strategy: Strategy, save: bool
) -> PlanOut | None:
    """The plan of deploying the function's head revision again (None: never deployed).

    The head as deployed is what fcplane should be running; planning it shows what
    FC differs by now (a console edit), and deploying it restores it.
    """
    function = await ctx.functions().get(ref)
    if function.head_revision == 0:
        return None
    head = await ctx.functions().revision(ref, function.head_revision)
    try:
        props = props_of(head.config)
        if isinstance(props.get("tags"), dict):  # canonical {key: value}; props take fc3's list
            props["tags"] = tags_to_wire(props["tags"])
        config = FunctionConfig.model_validate(props)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(map(str, e["loc"])) for e in exc.errors()}))
        raise Unresolved(
            f"revision {head.number} of {ref} cannot be planned from chat (fcplane no longer "
            f"accepts its {fields}); plan it through the API"
        ) from None
    request = PlanRequest(
        config=config,
        code_sha256=head.code_sha256,
        base_revision=head.number,
        strategy=strategy,
        save=save,
        message=f"from chat: {ctx.text}"[:2000],
    )
    return await ctx.deploys().plan(ref, request, ctx.actor)


def plan_reply(title: str, plan: dict[str, Any], tone: Tone = "info") -> Reply:
    fields = [
        ("base revision", str(plan.get("base_revision"))),
        ("head revision", str(plan.get("head_revision"))),
        ("drifted", "yes" if plan.get("drifted") else "no"),
    ]
    if plan.get("deploying"):
        fields.append(("deploying now", str(plan["deploying"])))
    if plan.get("id"):
        fields.append(("plan", str(plan["id"])))
    return Reply(
        title=title,
        text=plan_text(plan),
        fields=fields,
        table=change_table(plan),
        tone=tone,
    )


def project_reply(title: str, plan: dict[str, Any]) -> Reply:
    fields = [
        ("account", str(plan.get("account"))),
        ("revision", f"{plan.get('revision')} (deployed there: {plan.get('target_revision')})"),
    ]
    if plan.get("environment"):
        fields.append(("environment", str(plan["environment"])))
    if plan.get("stale"):
        fields.append(("changed since last deploy", ", ".join(plan["stale"])))
    return Reply(
        title=title,
        text=plan_text(plan),
        fields=fields,
        table=resource_table(plan),
        tone="warning" if plan.get("stale") else "info",
    )


async def project_plan(ctx: Context, name: str, parsed: Parsed) -> dict[str, Any]:
    request = ProjectTargetRequest(environment=parsed.flags.get("env"))
    plan: dict[str, Any] = (await ctx.projects().plan(name, request)).as_dict()
    return plan


async def plan(ctx: Context, parsed: Parsed) -> Result:
    plan_id = parsed.flags.get("plan")
    name = parsed.arg(0)
    if plan_id is not None:
        saved = (await ctx.deploys().saved_plan(plan_id)).model_dump(mode="json")
        if name is not None and name not in (saved["function"], f"function:{saved['function']}"):
            return failed("Wrong plan", f"plan {plan_id} is for {saved['function']}, not {name}.")
        title = f"Saved plan for {saved['account']}/{saved['function']}"
        return done(plan_reply(title, saved), detail=title)
    if name is None:
        raise GrammarError("`plan` needs a function or a project (or --plan ID)", PLAN_SPEC.usage)
    target: Target = await resolve_named(ctx, name, parsed)
    if target.kind == "project":
        body = await project_plan(ctx, str(target.project), parsed)
        return done(project_reply(f"Plan for project {target.project}", body))
    assert target.ref is not None
    found = await head_plan(ctx, target.ref, Strategy.FAIL, save=False)
    if found is None:
        return failed(
            f"{target.ref} was never deployed",
            "There is no revision to plan from: deploy it first through the API or the CLI "
            "(`fcplane deploy`), then plan and deploy it from chat.",
        )
    body = found.model_dump(mode="json")
    tone: Tone = "warning" if body["remote_changes"] or body["conflicts"] else "info"
    return done(plan_reply(f"Plan for {target.ref} (revision {body['head_revision']})", body, tone))
