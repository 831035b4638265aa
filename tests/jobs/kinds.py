"""A small real job kind for testing the job system: invoke the function N times."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.jobs.contract import Artifact, JobCancelled, JobContext, JobOutcome
from service.jobs.kinds import register
from service.kit.errors import InvalidInput, Unavailable
from service.kit.request_id import current_request_id
from service.kit.settings import Settings

NAME = "invoke-loop"


class InvokeLoopParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invocations: int = Field(ge=1, le=200)
    sleep_s: float = Field(0.0, ge=0, le=5)
    payload: str = ""
    fail_at: int | None = Field(None, ge=1, description="Raise a domain error at this call.")
    ignore_cancel: bool = False


class InvokeLoopResult(BaseModel):
    invocations: int
    bodies: list[str]
    facts: list[str]
    request_id: str | None = None  # the id the attempt ran under (its log lines carry it)


class InvokeLoop:
    name = NAME
    params_model: type[BaseModel] = InvokeLoopParams
    result_model: type[BaseModel] = InvokeLoopResult

    async def validate(self, params: BaseModel, facts: dict[str, Any], settings: Settings) -> None:
        if facts.get("config") is None:
            raise InvalidInput("function: it has never been deployed", field="function")

    async def run(self, ctx: JobContext, params: BaseModel) -> JobOutcome:
        assert isinstance(params, InvokeLoopParams)
        bodies: list[str] = []
        for i in range(params.invocations):
            if not params.ignore_cancel:
                await ctx.check_cancelled()
            if params.fail_at == i + 1:
                raise Unavailable(f"call {i + 1} failed on purpose")
            invocation = await ctx.gateway.invoke(
                ctx.access, ctx.function_name, params.payload.encode()
            )
            bodies.append(invocation.body.decode())
            # Live figures shaped as an eval's: the step and the partial results.
            await ctx.progress(
                (i + 1) / params.invocations,
                f"{i + 1}/{params.invocations} calls",
                {"step": i + 1, "steps": params.invocations, "partial": bodies[-3:]},
            )
            if params.sleep_s:
                if params.ignore_cancel:
                    await asyncio.sleep(params.sleep_s)
                else:
                    await _sleep_unless_cancelled(ctx, params.sleep_s)
        rows = "".join(f"<li>{html.escape(b)}</li>" for b in bodies)
        return JobOutcome(
            result={
                "invocations": len(bodies),
                "bodies": bodies,
                "facts": sorted(ctx.facts),
                "request_id": current_request_id(),
            },
            reports={"summary": f"<!doctype html><title>{NAME}</title><ul>{rows}</ul>"},
            artifacts={"bodies.json": Artifact("application/json", json.dumps(bodies).encode())},
        )


async def _sleep_unless_cancelled(ctx: JobContext, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        if await ctx.cancel_requested():
            raise JobCancelled("stopping")
        await asyncio.sleep(min(left, 0.1))


INVOKE_LOOP = InvokeLoop()


def install() -> None:
    """Register the kind in this process (the tests' worker subprocesses call it too)."""
    register(INVOKE_LOOP)
