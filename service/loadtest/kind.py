"""The ``stress`` job kind: Locust against a function's HTTP trigger or InvokeFunction."""

from __future__ import annotations

import base64
import logging
import math
import tempfile
from pathlib import Path
from typing import Any

from alibabacloud_fc20230330 import models as fc_models
from pydantic import BaseModel

from service.jobs.contract import JobCancelled, JobContext, JobOutcome
from service.kit.errors import InvalidInput
from service.kit.settings import Settings
from service.loadtest.artifacts import stress_artifacts
from service.loadtest.phases import phases
from service.loadtest.plan import Plan, PlanPayload, encode_body
from service.loadtest.results import summarize, window
from service.loadtest.runner import STOP_TIMEOUT_S, locust_processes, run_locust
from service.loadtest.schemas import StressParams, StressResult
from service.loadtest.signing import SigningKey, invoke_url
from service.reports.render import stress_report

log = logging.getLogger(__name__)

# Open loop: users are sized so each needs at most one request per this many
# seconds; a user whose request takes longer than its interval falls behind.
OPEN_LOOP_USER_BUDGET_S = 0.25


def open_loop_users(rps: float, max_users: int) -> int:
    return max(1, min(max_users, math.ceil(rps * OPEN_LOOP_USER_BUDGET_S)))


def check_bounds(params: StressParams, settings: Settings) -> None:
    if params.duration_s > settings.job_max_duration_seconds:
        raise InvalidInput(
            f"params.duration_s: at most {settings.job_max_duration_seconds:g} seconds",
            field="params.duration_s",
        )
    if params.users is not None and params.users > settings.stress_max_users:
        raise InvalidInput(
            f"params.users: at most {settings.stress_max_users}", field="params.users"
        )
    if params.rps is not None and params.rps > settings.stress_max_rps:
        raise InvalidInput(f"params.rps: at most {settings.stress_max_rps:g}", field="params.rps")
    if params.spawn_rate is not None and params.spawn_rate > settings.stress_max_users:
        raise InvalidInput(
            f"params.spawn_rate: at most {settings.stress_max_users} users per second",
            field="params.spawn_rate",
        )


def http_trigger_url(facts: dict[str, Any]) -> str | None:
    url = facts.get("http_trigger_url")
    return str(url) if url else None


def build_plan(ctx: JobContext, params: StressParams, users: int) -> Plan:
    payloads = (
        [PlanPayload(body_b64=_b64(encode_body(p.body)), weight=p.weight) for p in params.payloads]
        if params.payloads
        else [PlanPayload(body_b64=_b64(encode_body(params.payload)))]
    )
    if params.target == "http":
        base = http_trigger_url(ctx.facts)
        if base is None:
            raise InvalidInput(
                "params.target: the function has no HTTP trigger", field="params.target"
            )
        url, method, action = base.rstrip("/") + params.path, params.method, "HttpTrigger"
        name = f"{method} {params.path}"
        headers = dict(params.headers)
    else:
        url = invoke_url(ctx.access.endpoint, ctx.function_name, params.qualifier)
        method, action, name = "POST", "InvokeFunction", "InvokeFunction"
        headers = {
            **params.headers,
            "content-type": "application/octet-stream",
            "x-fc-invocation-type": "Sync",
        }
    return Plan(
        url=url,
        method=method,
        action=action,
        name=name,
        headers=headers,
        payloads=payloads,
        # Anonymous triggers ignore the signature; signing costs microseconds.
        sign=True,
        per_user_rps=params.rps / users if params.rps else None,
        timeout_s=params.timeout_s,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def running_instances(ctx: JobContext) -> set[str] | None:
    """The function's instances before the run (ListInstances), so that only instances
    started during it count as cold starts; None when they cannot be listed."""
    try:
        response = await ctx.gateway.client(ctx.access).list_instances_async(
            ctx.function_name, fc_models.ListInstancesRequest(with_all_active=True)
        )
    except Exception as exc:  # an account without the permission: count every instance
        log.warning("stress job %s: could not list instances (%s)", ctx.job_id, type(exc).__name__)
        return None
    return {i.instance_id for i in (response.body.instances or []) if i.instance_id}


class StressKind:
    name = "stress"
    params_model: type[BaseModel] = StressParams
    result_model: type[BaseModel] = StressResult

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        assert isinstance(params, StressParams)
        check_bounds(params, settings)
        if params.target == "http" and http_trigger_url(facts) is None:
            raise InvalidInput(
                "params.target: 'http' needs an HTTP trigger and the function has none",
                field="params.target",
            )

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        assert isinstance(params, StressParams)
        await self.validate(params, ctx.facts, ctx.settings)
        settings = ctx.settings
        if params.rps is not None:
            users = params.users or open_loop_users(params.rps, settings.stress_max_users)
        else:
            assert params.users is not None
            users = params.users
        spawn_rate = params.spawn_rate or float(users)  # default: everyone within a second
        plan = build_plan(ctx, params, users)
        creds = ctx.access.credentials
        key = SigningKey(creds.access_key_id, creds.access_key_secret, creds.security_token)
        await ctx.check_cancelled()
        baseline = await running_instances(ctx)
        await ctx.progress(0.0, f"starting {users} users")
        with tempfile.TemporaryDirectory(prefix=f"fcplane-stress-{ctx.job_id}-") as tmp:
            run = await run_locust(
                Path(tmp),
                plan,
                key,
                users=users,
                spawn_rate=spawn_rate,
                duration_s=params.duration_s,
                processes=locust_processes(settings.locust_processes),
                cancel_requested=ctx.cancel_requested,
                progress=ctx.progress,
            )
        if run.cancelled:
            raise JobCancelled(f"stress job {ctx.job_id} cancelled")
        result = {**summarize(run.merged, params.rps), "users": users, "target": params.target}
        result |= window(
            params.duration_s,
            result["duration_s"],
            users=users,
            spawn_rate=spawn_rate,
            per_user_rps=plan.per_user_rps,
            stop_timeout_s=STOP_TIMEOUT_S,
        )
        result |= phases(run.merged, ramp_s=(users - 1) / spawn_rate, baseline=baseline)
        summary = stress_report(ctx.function_name, params.model_dump(mode="json"), result)
        await ctx.progress(1.0, "done")
        return JobOutcome(
            result=result,
            reports={"summary": summary, "locust": run.html},
            artifacts=stress_artifacts(result["timeline"], run.csvs),
        )


STRESS = StressKind()
