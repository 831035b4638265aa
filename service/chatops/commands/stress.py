"""``stress <function> <duration> <load>``: queue a stress job, as POST /v1/jobs does."""

from __future__ import annotations

import logging

from arq.connections import ArqRedis

from service.chatops.commands.context import Context, Result, done, resolve_function
from service.chatops.commands.grammar import (
    Flag,
    GrammarError,
    Parsed,
    Spec,
    parse_duration,
    parse_load,
)
from service.chatops.commands.plans import account_flag
from service.chatops.commands.read import ACCOUNT
from service.chatops.contract import Reply
from service.jobs.schemas import JobCreate
from service.jobs.tasks import ArqQueue
from service.state import AppState

log = logging.getLogger(__name__)

STRESS_SPEC = Spec(
    "stress",
    "load a function: `stress hello 30s 10users` (closed loop) or `50rps` (open loop)",
    args=("function", "duration", "users|rps"),
    flags=(
        ACCOUNT,
        Flag(
            "target",
            "invoke (the InvokeFunction API, default) or http (its HTTP trigger)",
            metavar="T",
        ),
    ),
)


async def enqueue(state: AppState, job_id: str) -> bool:
    """Hand the job to the workers (with Redis, as the API does); False when it is left
    to the job sweeper, which offers every queued job to a runner within
    ``FCPLANE_JOB_SWEEP_SECONDS`` (the embedded setup's in-process runner included)."""
    if state.redis is None:
        return False
    queue = ArqQueue(
        ArqRedis(pool_or_conn=state.redis.connection_pool), state.settings.redis_queue_name
    )
    try:
        await queue.enqueue(job_id)
    except Exception:  # e.g. Redis down: the job is recorded; the sweeper enqueues it later
        log.exception("job %s recorded but not enqueued; the sweeper will retry", job_id)
        return False
    return True


async def stress(ctx: Context, parsed: Parsed) -> Result:
    name, duration_text, load_text = parsed.args
    target = parsed.flags.get("target", "invoke")
    if target not in ("invoke", "http"):
        raise GrammarError(f"--target `{target}`: choose invoke or http", STRESS_SPEC.usage)
    duration = parse_duration(duration_text)
    load, amount = parse_load(load_text)
    ref = await resolve_function(ctx, name, account_flag(parsed))
    params: dict[str, object] = {"target": target, "duration_s": duration}
    params[load] = int(amount) if load == "users" else amount
    request = JobCreate(kind="stress", account=ref.account, function=ref.name, params=params)
    job = await ctx.jobs().submit(request, ctx.actor)
    handed = await enqueue(ctx.state, job.id)
    shown = f"{int(amount)} users" if load == "users" else f"{amount:g} requests/s"
    when_starts = (
        ""
        if handed
        else (
            f" It starts within {ctx.state.settings.job_sweep_seconds:g} s (when a runner is free)."
        )
    )
    link = ctx.link(f"/v1/jobs/{job.id}")
    reply = Reply(
        title=f"Stress job queued for {ref}",
        text=f"{shown} for {duration} s through `{target}`.{when_starts} Follow it with "
        f"`jobs {job.id}`; its report link is there once it has finished.",
        fields=[("job", job.id), ("status", job.status)],
        links=[("job", link)] if link else [],
    )
    return done(reply, detail=f"stress {ref} {duration}s {shown}", job_id=job.id)
