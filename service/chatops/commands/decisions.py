"""Approving or rejecting a change asked for in chat, and applying an approved one.

The same path serves a button press (Slack block action, Feishu card action, the
DingTalk approval page) and a typed ``approve <id>`` / ``reject <id>``. Rules:

- an expired approval is refused (and marked expired);
- where the integration requires a second approver, the requester cannot approve
  their own change, but may reject it (withdraw it);
- approving moves the approval out of ``pending`` once (a conditional update), so
  of two simultaneous clicks one applies and the other is told who did;
- applying uses the stored request with its optimistic-concurrency check: a saved
  plan's head / applied / live fingerprints, a rollback's or project's base
  revision. A 409 marks the approval ``stale`` and the reply says what moved.
"""

from __future__ import annotations

import logging
from typing import Any

from service.chatops.approvals import ApprovalStatus, ApprovalStore, expired, self_approval
from service.chatops.audit import EventKind, EventOutcome, Trace
from service.chatops.commands.context import Context, Result
from service.chatops.commands.grammar import Parsed, Spec
from service.chatops.commands.tables import change_table, resource_table, when
from service.chatops.contract import Decision, Reply
from service.deploys.schemas import RollbackRequest
from service.kit.errors import Conflict, DomainError
from service.models import ChatApproval
from service.models.base import utcnow
from service.models.deployment import Strategy
from service.models.function import FunctionRef
from service.projects.schemas import ProjectDeployRequest

log = logging.getLogger(__name__)

APPROVE_SPEC = Spec("approve", "approve a pending deploy or rollback", args=("id",))
REJECT_SPEC = Spec(
    "reject", "reject a pending deploy or rollback (the requester may too)", args=("id",)
)


def _trace(
    outcome: EventOutcome, approval: ChatApproval | None, detail: str, **ids: str | None
) -> Trace:
    kind = EventKind.REFUSAL if outcome == EventOutcome.REFUSED else EventKind.DECISION
    return Trace(kind, outcome, detail, approval_id=approval.id if approval else None, **ids)


def describe(approval: ChatApproval) -> str:
    request = approval.request
    if request.get("kind") == "project":
        return f"deploy of project {request['project']} revision {request['revision']}"
    target = f"{request.get('account')}/{request.get('function')}"
    if request.get("kind") == "rollback":
        return f"rollback of {target} to revision {request['to_revision']}"
    return f"deploy of {target}"


def _already(approval: ChatApproval) -> Result:
    status = approval.status
    who = approval.decided_by or "nobody"
    text = f"This {describe(approval)} was {status}"
    if status == ApprovalStatus.EXPIRED:
        text += f" at {when(approval.expires_at)}"
    else:
        text += f" by {who} at {when(approval.decided_at)}"
    deployment = (approval.outcome or {}).get("deployment_id")
    if deployment:
        text += f" (deployment {deployment})"
    if status == ApprovalStatus.APPROVED and approval.outcome is None:
        text += "; it is being applied now"
    title = f"Already {status} by {who}" if approval.decided_by else f"Already {status}"
    reply = Reply(title=title, text=text + ".", tone="info")
    # A repeated click is a decision that found the work done, not an authorization refusal.
    trace = Trace(
        EventKind.DECISION, EventOutcome.REFUSED, f"already {status} by {who}", approval.id
    )
    return Result(reply, trace)


async def decide(ctx: Context, approval_id: str, decision: Decision) -> Result:
    store = ApprovalStore(ctx.state.db)
    approval = await store.get(ctx.integration, approval_id)
    if approval is None:
        text = (
            f"There is no approval `{approval_id}` in this integration (give its whole id, "
            "or a unique prefix of 8 or more characters)."
        )
        reply = Reply(title="No such approval", text=text, tone="error")
        return Result(reply, Trace(EventKind.DECISION, EventOutcome.FAILED, text))
    if approval.status != ApprovalStatus.PENDING:
        return _already(approval)
    if expired(approval, utcnow()):
        await store.decide(approval.id, ApprovalStatus.EXPIRED, None)
        text = (
            f"This {describe(approval)} expired at {when(approval.expires_at)} and was not "
            "applied; ask again (`deploy …` / `rollback …`) for a fresh plan."
        )
        reply = Reply(title="Approval expired", text=text, tone="warning")
        return Result(reply, _trace(EventOutcome.EXPIRED, approval, text))
    if decision == "reject":
        if not await store.decide(approval.id, ApprovalStatus.REJECTED, ctx.actor):
            return _already(await _reread(store, ctx, approval))
        text = f"The {describe(approval)} was rejected by {ctx.actor}; nothing changed."
        reply = Reply(title=f"Rejected by {ctx.actor}", text=text, tone="warning")
        return Result(reply, _trace(EventOutcome.REJECTED, approval, text))
    if self_approval(approval, ctx.integration, ctx.user):
        text = (
            f"{ctx.actor} asked for this {describe(approval)}; this integration requires "
            "someone else to approve it (you may reject it to withdraw it)."
        )
        reply = Reply(title="You cannot approve your own change", text=text, tone="error")
        return Result(reply, _trace(EventOutcome.REFUSED, approval, text))
    if not await store.decide(approval.id, ApprovalStatus.APPROVED, ctx.actor):
        return _already(await _reread(store, ctx, approval))
    return await _apply(ctx, store, approval)


async def _reread(store: ApprovalStore, ctx: Context, approval: ChatApproval) -> ChatApproval:
    return await store.get(ctx.integration, approval.id) or approval


async def _apply(ctx: Context, store: ApprovalStore, approval: ChatApproval) -> Result:
    request = approval.request
    try:
        outcome, reply = await _run(ctx, request)
    except Conflict as exc:
        return await _stale(store, approval, exc)
    except DomainError as exc:
        body = {"code": exc.code, "detail": exc.detail}
        await store.settle(approval.id, ApprovalStatus.FAILED, body)
        text = f"The {describe(approval)} was approved by {ctx.actor} but failed: {exc.detail}"
        reply = Reply(title="Deploy failed", text=text, tone="error")
        return Result(
            reply,
            _trace(
                EventOutcome.FAILED, approval, text, deployment_id=exc.extra.get("deployment_id")
            ),
        )
    except Exception as exc:  # the approval must not stay "being applied" forever
        log.exception("chat approval %s: applying failed", approval.id)
        await store.settle(
            approval.id,
            ApprovalStatus.FAILED,
            {"code": "internal_error", "detail": type(exc).__name__},
        )
        text = f"The {describe(approval)} was approved but could not be applied (internal error)."
        return Result(
            Reply(title="Deploy failed", text=text, tone="error"),
            _trace(EventOutcome.FAILED, approval, text),
        )
    succeeded = outcome["status"] == "succeeded"
    await store.settle(
        approval.id, ApprovalStatus.APPROVED if succeeded else ApprovalStatus.FAILED, outcome
    )
    requester = f"{ctx.integration.platform}:{approval.requested_by}"
    if approval.requested_by_name:
        requester += f" ({approval.requested_by_name})"
    reply.fields += [("approved by", ctx.actor), ("requested by", requester)]
    detail = f"{describe(approval)}: {outcome['status']}"
    trace_outcome = EventOutcome.APPROVED if succeeded else EventOutcome.FAILED
    return Result(
        reply, _trace(trace_outcome, approval, detail, deployment_id=outcome["deployment_id"])
    )


async def _run(ctx: Context, request: dict[str, Any]) -> tuple[dict[str, Any], Reply]:
    """Apply the stored request as the approver; (what it produced, the reply)."""
    kind = request.get("kind")
    if kind == "project":
        body = ProjectDeployRequest(
            revision=request["revision"],
            environment=request.get("environment"),
            base_revision=request["base_revision"],
            strategy=Strategy(request.get("strategy", "fail")),
            message=f"from chat: {ctx.text}"[:2000],
        )
        row, account = await ctx.projects().deploy(request["project"], body, ctx.actor)
        status = str(row.status)
        outcome = {"deployment_id": row.id, "status": status, "revision": row.revision}
        reply = Reply(
            title=f"Project {request['project']} revision {row.revision} → {account}: {status}",
            tone="success" if status == "succeeded" else "error",
            fields=[("deployment", row.id)],
            table=_results_table(row.results),
        )
        return outcome, reply
    deploys = ctx.deploys()
    ref = FunctionRef(request["account"], request["function"])
    if kind == "rollback":
        rollback = RollbackRequest(
            to_revision=request["to_revision"], base_revision=request["base_revision"]
        )
        deployment = await deploys.rollback(ref, rollback, ctx.actor)
    else:
        deployment = await deploys.apply_plan(request["plan_id"], ctx.actor)
    status = str(deployment.status)
    outcome = {
        "deployment_id": deployment.id,
        "status": status,
        "to_revision": deployment.to_revision,
    }
    reply = Reply(
        title=f"Deployed {ref}: revision {deployment.to_revision}"
        if status == "succeeded"
        else f"{ref}: {status}",
        tone="success" if status == "succeeded" else "error",
        fields=[
            ("deployment", deployment.id),
            ("revision", f"{deployment.from_revision} → {deployment.to_revision}"),
            ("took", f"{deployment.duration_ms} ms" if deployment.duration_ms is not None else "-"),
        ],
        links=[
            (label, url)
            for label, url in [("deployment", ctx.link(f"/v1/deployments/{deployment.id}"))]
            if url
        ],
    )
    return outcome, reply


def _results_table(results: list[dict[str, Any]] | None) -> list[list[str]] | None:
    rows = [[str(r.get("resource", "-")), str(r.get("status", "-"))] for r in results or []]
    return [["resource", "status"], *rows] if rows else None


async def _stale(store: ApprovalStore, approval: ChatApproval, exc: Conflict) -> Result:
    plan = exc.extra.get("plan") if isinstance(exc.extra.get("plan"), dict) else None
    await store.settle(approval.id, ApprovalStatus.STALE, {"code": exc.code, "detail": exc.detail})
    text = f"Nothing was applied: {exc.detail}. What moved is below; ask again for a fresh plan."
    table = None
    if plan is not None:
        table = (
            resource_table(plan)
            if "resources" in plan
            else change_table(
                {"remote_changes": plan.get("remote_changes"), "conflicts": plan.get("conflicts")}
            )
        )
    reply = Reply(
        title=f"Stale: the {describe(approval)} was not applied",
        text=text,
        tone="warning",
        table=table,
    )
    return Result(reply, _trace(EventOutcome.STALE, approval, f"{exc.code}: {exc.detail}"))


async def approve(ctx: Context, parsed: Parsed) -> Result:
    return await decide(ctx, parsed.args[0], "approve")


async def reject(ctx: Context, parsed: Parsed) -> Result:
    return await decide(ctx, parsed.args[0], "reject")
