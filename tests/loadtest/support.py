"""Helpers shared by the stress, eval and report tests: functions on a live emulator and a
JobContext built directly (the job system is not involved)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from alibabacloud_fc20230330 import models as fc_models

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.jobs.contract import JobCancelled, JobContext
from service.kit.settings import Settings
from tests.fc import zip_b64

ECHO_PY = """
def handler(event, context):
    return event
"""

HTTP_ECHO_PY = """
import json

def handler(event, context):
    request = json.loads(event)
    return {"statusCode": 200, "body": request.get("body") or "",
            "headers": {"x-path": request["rawPath"]}}
"""


def python_config(name: str, source: str, **overrides: Any) -> dict[str, Any]:
    return {
        "functionName": name,
        "runtime": "python3.10",
        "handler": "index.handler",
        "memorySize": 512,
        "cpu": 0.5,
        "timeout": 30,
        "code": {"zipFile": zip_b64({"index.py": source})},
        **overrides,
    }


async def warm(
    gateway: FcGateway, access: FcAccess, name: str, instances: int, payload: bytes = b"{}"
) -> None:
    """Start `instances` instances side by side (a standard runtime serves one request at a
    time), so a test's load meets warm ones: a cold start on a busy machine takes seconds."""
    await asyncio.gather(*(gateway.invoke(access, name, payload) for _ in range(instances)))


async def add_http_trigger(
    gateway: FcGateway, access: FcAccess, function: str, auth: str = "function"
) -> str:
    """Create an HTTP trigger through the SDK; returns its URL."""
    request = fc_models.CreateTriggerRequest(
        body=fc_models.CreateTriggerInput(
            trigger_name="http",
            trigger_type="http",
            trigger_config=json.dumps({"authType": auth, "methods": ["GET", "POST", "PUT"]}),
        )
    )
    response = await gateway.client(access).create_trigger_async(function, request)
    url: str = response.body.http_trigger.url_internet
    return url


@dataclass
class Control:
    """The job system's side of a JobContext: progress notes and a cancel flag."""

    cancel_after_progress: float | None = None
    cancelled: bool = False
    notes: list[tuple[float, str]] = field(default_factory=list)
    lives: list[dict[str, Any]] = field(default_factory=list)

    async def progress(
        self, fraction: float, note: str, live: dict[str, Any] | None = None
    ) -> None:
        self.notes.append((fraction, note))
        if live is not None:
            self.lives.append(live)
        if self.cancel_after_progress is not None and fraction >= self.cancel_after_progress:
            self.cancelled = True

    async def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled("cancel requested")

    async def cancel_requested(self) -> bool:
        return self.cancelled


def make_ctx(
    gateway: FcGateway,
    access: FcAccess,
    settings: Settings,
    function: str,
    control: Control | None = None,
    **facts: Any,
) -> tuple[JobContext, Control]:
    control = control or Control()
    ctx = JobContext(
        job_id="job-test",
        function=function,
        access=access,
        gateway=gateway,
        settings=settings,
        progress=control.progress,
        check_cancelled=control.check_cancelled,
        cancel_requested=control.cancel_requested,
        facts=dict(facts),
    )
    return ctx, control
