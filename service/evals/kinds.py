"""The ``eval-spec`` and ``eval-concurrency`` job kinds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.evals.concurrency import run_concurrency_eval
from service.evals.schemas import (
    EvalConcurrencyParams,
    EvalConcurrencyResult,
    EvalSpecParams,
    EvalSpecResult,
)
from service.evals.spec import run_spec_eval
from service.jobs.contract import JobContext, JobOutcome
from service.kit.errors import InvalidInput
from service.kit.settings import Settings
from service.reports.render import eval_concurrency_report, eval_spec_report

CUSTOM_RUNTIME_PREFIXES = ("custom",)  # custom.debian10/11/12 and custom-container


def _live_runtime(facts: dict[str, Any]) -> str | None:
    for key in ("config", "applied"):
        config = facts.get(key)
        if isinstance(config, dict) and config.get("runtime"):
            return str(config["runtime"])
    return None


def _finished(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The live figures of a finished eval: every step, so the last ones written (progress
    writes are throttled) are never those of an earlier step."""
    return {"step": len(steps), "steps": len(steps), "partial": steps}


class EvalSpecKind:
    name = "eval-spec"
    params_model: type[BaseModel] = EvalSpecParams
    result_model: type[BaseModel] = EvalSpecResult

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        assert isinstance(params, EvalSpecParams)
        if params.invocations > settings.eval_max_invocations:
            raise InvalidInput(
                f"params.invocations: at most {settings.eval_max_invocations}",
                field="params.invocations",
            )
        if params.specs is not None and len(params.specs) > settings.eval_max_specs:
            raise InvalidInput(
                f"params.specs: at most {settings.eval_max_specs} specs", field="params.specs"
            )

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        assert isinstance(params, EvalSpecParams)
        await self.validate(params, ctx.facts, ctx.settings)
        result = await run_spec_eval(ctx, params)
        report = eval_spec_report(ctx.function_name, params.model_dump(mode="json"), result)
        await ctx.progress(1.0, "done", live=_finished(result["specs"]))
        return JobOutcome(result=result, reports={"summary": report})


class EvalConcurrencyKind:
    name = "eval-concurrency"
    params_model: type[BaseModel] = EvalConcurrencyParams
    result_model: type[BaseModel] = EvalConcurrencyResult

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        assert isinstance(params, EvalConcurrencyParams)
        levels = params.levels()
        if max(levels) > settings.eval_max_concurrency:
            raise InvalidInput(
                f"params.concurrency: at most {settings.eval_max_concurrency}",
                field="params.concurrency",
            )
        if len(levels) > settings.eval_max_specs:
            raise InvalidInput(
                f"params.concurrency: at most {settings.eval_max_specs} steps",
                field="params.concurrency",
            )
        if params.duration_s > settings.job_max_duration_seconds:
            raise InvalidInput(
                f"params.duration_s: at most {settings.job_max_duration_seconds:g} seconds",
                field="params.duration_s",
            )
        if params.target == "http" and not facts.get("http_trigger_url"):
            raise InvalidInput(
                "params.target: 'http' needs an HTTP trigger and the function has none",
                field="params.target",
            )
        runtime = _live_runtime(facts)
        if runtime is not None and not runtime.startswith(CUSTOM_RUNTIME_PREFIXES):
            raise InvalidInput(
                f"function: runtime {runtime} runs one request per instance; concurrency "
                "evals need a custom runtime",
                field="function",
            )

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        assert isinstance(params, EvalConcurrencyParams)
        # Checked against the live runtime, which may have changed since submission.
        live = (await ctx.gateway.get_function(ctx.access, ctx.function_name)).body
        await self.validate(params, {**ctx.facts, "config": live}, ctx.settings)
        result = await run_concurrency_eval(ctx, params)
        report = eval_concurrency_report(ctx.function_name, params.model_dump(mode="json"), result)
        await ctx.progress(1.0, "done", live=_finished(result["steps"]))
        return JobOutcome(result=result, reports={"summary": report})


EVAL_SPEC = EvalSpecKind()
EVAL_CONCURRENCY = EvalConcurrencyKind()
