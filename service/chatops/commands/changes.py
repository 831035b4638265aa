"""``deploy`` and ``rollback``: never a change at once, always an approval first.

Each records exactly what would be applied — a saved plan (its base revision,
applied and live state fingerprints), a project revision with the revision last
deployed there, or a rollback's target with the head it was asked against — and
answers with the plan and Approve / Reject buttons. Approving applies that, or
nothing if anything moved since (decisions.py).
"""

from __future__ import annotations

from typing import Any

from service.chatops.approvals import ApprovalAction, ApprovalStore
from service.chatops.audit import EventOutcome
from service.chatops.commands.context import (
    Context,
    Result,
    done,
    failed,
    resolve_function,
)
from service.chatops.commands.grammar import GrammarError, Parsed, Spec
from service.chatops.commands.plans import (
    ENV,
    PLAN,
    STRATEGY,
    account_flag,
    head_plan,
    plan_reply,
    project_plan,
    project_reply,
    resolve_named,
    strategy_flag,
)
from service.chatops.commands.read import ACCOUNT
from service.chatops.commands.tables import change_table, field_path, when
from service.chatops.contract import Button, Reply
from service.models.deployment import Strategy
from service.models.function import FunctionRef

DEPLOY_SPEC = Spec(
    "deploy",
    "deploy a function's head revision, a saved plan or a project — after approval",
    optional=("function|project",),
    flags=(ENV, ACCOUNT, PLAN, STRATEGY),
)
ROLLBACK_SPEC = Spec(
    "rollback",
    "deploy an earlier revision of a function again — after approval",
    args=("function", "revision"),
    flags=(ACCOUNT,),
)


async def _ask(
    ctx: Context,
    action: ApprovalAction,
    request: dict[str, Any],
    reply: Reply,
    what: str,
) -> Result:
    store = ApprovalStore(ctx.state.db)
    approval = await store.create(
        ctx.integration, ctx.user, ctx.grant.display_name, action, request, ctx.reply_to
    )
    reply.buttons = [
        Button("Approve", "approve", approval.id, confirm=f"{what}?"),
        Button("Reject", "reject", approval.id),
    ]
    reply.fields += [
        ("requested by", ctx.actor),
        ("approval", approval.id),
        ("expires", when(approval.expires_at)),
    ]
    second = (
        " by someone other than the requester" if ctx.integration.require_second_approver else ""
    )
    reply.text = (
        f"{reply.text}\n\nNothing changes until this is approved{second}: press Approve or "
        f"Reject, or type `approve {approval.id}` / `reject {approval.id}`."
    ).strip()
    reply.title = f"{what}? (waiting for approval)"
    return done(reply, EventOutcome.PENDING_APPROVAL, detail=what, approval_id=approval.id)


def _remote_refusal(ref: FunctionRef, body: dict[str, Any]) -> Result:
    moved = ", ".join(field_path(str(c["path"])) for c in body["remote_changes"][:10])
    reason = (
        f"{body['deploying']} is deploying it now"
        if body.get("deploying")
        else f"FC differs from revision {body['head_revision']} ({moved})"
    )
    return failed(
        f"Deploying {ref} would be refused",
        f"{reason}. With strategy `fail` that deploy is refused. "
        f"`deploy {ref.name} --account {ref.account} --strategy use-local` restores revision "
        f"{body['head_revision']} over those changes; `--strategy use-remote` adopts them "
        "(both after approval).",
    )


async def deploy(ctx: Context, parsed: Parsed) -> Result:
    name, plan_id = parsed.arg(0), parsed.flags.get("plan")
    if plan_id is not None:
        if parsed.has("strategy"):
            raise GrammarError(
                "--strategy does not go with --plan: a saved plan carries its own",
                DEPLOY_SPEC.usage,
            )
        return await _deploy_saved(ctx, name, plan_id)
    if name is None:
        raise GrammarError(
            "`deploy` needs a function or a project (or --plan ID)", DEPLOY_SPEC.usage
        )
    strategy = strategy_flag(parsed)
    target = await resolve_named(ctx, name, parsed)
    if target.kind == "project":
        return await _deploy_project(ctx, str(target.project), parsed, strategy)
    assert target.ref is not None
    ref = target.ref
    found = await head_plan(ctx, ref, strategy, save=True)
    if found is None:
        return failed(
            f"{ref} was never deployed",
            "Chat deploys a revision fcplane already has (or a saved plan): deploy it first "
            "through the API or the CLI.",
        )
    body = found.model_dump(mode="json")
    if not body["local_changes"] and not body["remote_changes"] and not body["deploying"]:
        reply = Reply(
            title=f"Nothing to deploy: {ref}",
            text=f"FC runs revision {body['head_revision']} exactly as deployed. To deploy a "
            "new config or code, save a plan (API `POST …/plan` with `save`, or the CLI) and "
            f"`deploy {ref.name} --plan <id>`.",
            tone="success",
        )
        return done(reply, detail="nothing to deploy")
    if strategy == Strategy.FAIL and (body["remote_changes"] or body["deploying"]):
        return _remote_refusal(ref, body)
    request = {
        "kind": "function",
        "account": ref.account,
        "function": ref.name,
        "plan_id": body["id"],
        "base_revision": body["base_revision"],
        "strategy": strategy.value,
    }
    reply = plan_reply("", body, "warning")
    return await _ask(
        ctx,
        ApprovalAction.DEPLOY,
        request,
        reply,
        f"Deploy {ref} (revision {body['head_revision']}, {strategy.value})",
    )


async def _deploy_saved(ctx: Context, name: str | None, plan_id: str) -> Result:
    saved = (await ctx.deploys().saved_plan(plan_id)).model_dump(mode="json")
    ref = FunctionRef(saved["account"], saved["function"])
    if name is not None and name not in (ref.name, f"function:{ref.name}", str(ref)):
        return failed("Wrong plan", f"plan {plan_id} is for {ref}, not `{name}`.")
    request = {
        "kind": "function",
        "account": ref.account,
        "function": ref.name,
        "plan_id": plan_id,
        "base_revision": saved["base_revision"],
    }
    reply = plan_reply("", saved, "warning")
    return await _ask(
        ctx, ApprovalAction.DEPLOY, request, reply, f"Deploy {ref} (plan {plan_id[:8]})"
    )


async def _deploy_project(ctx: Context, name: str, parsed: Parsed, strategy: Strategy) -> Result:
    body = await project_plan(ctx, name, parsed)
    if body["revision"] == body["target_revision"] and not body["stale"]:
        reply = Reply(
            title=f"Nothing to deploy: project {name}",
            text=f"Revision {body['revision']} is deployed to account `{body['account']}`.",
            tone="success",
        )
        return done(reply, detail="nothing to deploy")
    if body["stale"] and strategy == Strategy.FAIL:
        return failed(
            f"Deploying project {name} would be refused",
            f"{', '.join(body['stale'])} changed since this project last deployed them. Review "
            f"`plan {name}` and deploy with `--strategy use-local`, `use-remote` or `merge`.",
        )
    request = {
        "kind": "project",
        "project": name,
        "account": body["account"],
        "revision": body["revision"],
        "environment": parsed.flags.get("env"),
        "base_revision": body["target_revision"],
        "strategy": strategy.value,
    }
    reply = project_reply("", body)
    what = f"Deploy project {name} revision {body['revision']} to {body['account']}"
    return await _ask(ctx, ApprovalAction.DEPLOY, request, reply, what)


async def rollback(ctx: Context, parsed: Parsed) -> Result:
    name, number = parsed.args[0], parsed.args[1]
    if not (number.isascii() and number.isdigit()) or int(number) < 1:
        raise GrammarError(
            f"revision `{number}`: give a revision number (1, 2, …)", ROLLBACK_SPEC.usage
        )
    ref = await resolve_function(ctx, name, account_flag(parsed))
    function = await ctx.functions().get(ref)
    to = int(number)
    if to == function.head_revision:
        return done(
            Reply(title=f"{ref} is at revision {to} already", tone="success"),
            detail="nothing to roll back",
        )
    changes = (await ctx.functions().diff(ref, function.head_revision, to)).changes
    request = {
        "kind": "rollback",
        "account": ref.account,
        "function": ref.name,
        "to_revision": to,
        "base_revision": function.head_revision,
    }
    reply = Reply(
        title="",
        text=f"Revision {to} deployed again as a new revision, replacing revision "
        f"{function.head_revision} ({len(changes)} field(s) change).",
        table=change_table({"local_changes": [c.model_dump() for c in changes]}),
        fields=[("head revision", str(function.head_revision)), ("to revision", str(to))],
        tone="warning",
    )
    what = f"Roll {ref} back to revision {to}"
    return await _ask(ctx, ApprovalAction.ROLLBACK, request, reply, what)


__all__ = ["DEPLOY_SPEC", "ROLLBACK_SPEC", "deploy", "rollback"]
