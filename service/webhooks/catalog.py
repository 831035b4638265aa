"""The events a `standard` subscription receives, as OpenAPI `webhooks` entries.

Nothing here runs on a request: :func:`document_events` declares one entry
per :class:`EventType` on the app's webhooks router, so generated clients and
readers of the OpenAPI document see each event's body (its model in
:mod:`service.webhooks.payloads`, `data` included) and an example, next to the
paths that cause it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from service.kit.openapi import add_finisher
from service.kit.settings import Settings
from service.webhooks.messages import Event, standard_body
from service.webhooks.payloads import EVENT_MODELS, WebhookMessage
from service.webhooks.schemas import EventType

_DEFAULT_TIMEOUT = Settings.model_fields["webhook_timeout_seconds"].default
_CHANGE = {"path": "/memorySize", "base": 512, "value": 1024}
_DEPLOYMENT = {
    "deployment_id": "9a2ff8f4-b706-4bea-bfe6-dff961c09b70",
    "kind": "deploy",
    "strategy": "fail",
    "base_revision": 4,
    "from_revision": 4,
    "to_revision": 5,
    "message": "raise memory for the import spike",
}
_PLAN = {
    "local_changes": [_CHANGE],
    "remote_changes": [{"path": "/timeout", "base": 30, "value": 60}],
    "conflicts": [],
    "drifted": True,
}


@dataclass(frozen=True)
class _Doc:
    description: str
    data: dict[str, Any]
    resource: str = "/v1/deployments/9a2ff8f4-b706-4bea-bfe6-dff961c09b70"


EVENTS: dict[EventType, _Doc] = {
    EventType.DRIFT_OPENED: _Doc(
        "A drift check, plan or deploy found a function (or, with `alias`, one of its "
        "aliases) different in FC from what fcplane last applied. `changes` are "
        "`{path, base, value}`: base is what fcplane applied, value what FC has. Sent once per "
        "drift event; later differences update the event without a new message.",
        {
            "event_id": 42,
            "changes": [
                {
                    "path": "/triggers/http_t/triggerConfig/methods",
                    "base": ["GET"],
                    "value": ["GET", "POST"],
                }
            ],
            "interrupted_deployment": None,
        },
        "/v1/drift-events/42",
    ),
    EventType.DRIFT_RESOLVED: _Doc(
        "An open drift event was closed: by a deploy (`resolution: deploy`, a use-local or "
        "merge), by taking FC's state as a revision (`use-remote`), by a `rollback`, or "
        "because a check found FC back at the applied state (`in-sync`).",
        {
            "event_id": 42,
            "resolution": "deploy",
            "resolved_by_deployment_id": "9a2ff8f4-b706-4bea-bfe6-dff961c09b70",
            "changes": [_CHANGE],
        },
        "/v1/drift-events/42",
    ),
    EventType.DEPLOY_SUCCEEDED: _Doc(
        "A deploy, rollback or use-remote reached FC (or adopted what it runs) and was "
        "recorded. "
        "`discarded_changes`: console edits a use-local deploy overwrote; "
        "`overwritten_changes`: edits a merge replaced.",
        {
            **_DEPLOYMENT,
            "status": "succeeded",
            "changes": [_CHANGE],
            "discarded_changes": [],
            "overwritten_changes": [],
        },
    ),
    EventType.DEPLOY_FAILED: _Doc(
        "FC refused or failed a deploy; `error` is the problem the deploy answered with "
        "(FC's code, message and request id when FC refused). The function's applied state "
        "is what FC runs (a partly applied resource says which parts).",
        {
            **_DEPLOYMENT,
            "status": "failed",
            "error": {
                "code": "fc_error",
                "status": 400,
                "detail": "UpdateFunction: InvalidArgument: memorySize must be a multiple of 64",
                "fc_code": "InvalidArgument",
                "fc_message": "memorySize must be a multiple of 64",
                "fc_request_id": "1-6b161ba4-ee5cec40-e8145135eee97145",
            },
        },
    ),
    EventType.DEPLOY_CONFLICT: _Doc(
        "A deploy was refused with 409: its base revision is stale or FC drifted. The plan's "
        "local and remote changes and their conflicts are included.",
        {**_DEPLOYMENT, "status": "conflict", "to_revision": None, **_PLAN},
    ),
    EventType.JOB_FINISHED: _Doc(
        "A stress or eval job ended (`succeeded`, `failed` or `cancelled`); eval jobs carry "
        "their `recommendation`; succeeded jobs their `headline` figures and a signed "
        "`report_url` that opens in a browser without a token until it expires.",
        {
            "job_id": "job_8c1d0e4b2a",
            "kind": "eval-spec",
            "status": "succeeded",
            "message": "eval-spec job job_8c1d0e4b2a succeeded",
            "attempts": 1,
            "recommendation": {
                "cpu": 1.0,
                "memorySize": 2048,
                "strategy": "cost",
                "duration_ms": 182.4,
                "cost_per_invocation": 4.1e-06,
                "cost_per_1m": 4.1,
                "cheapest_cost_per_invocation": 4.1e-06,
                "fastest_duration_ms": 120.5,
                "relative_cost": 1.0,
                "relative_duration": 1.5137,
            },
            "headline": {
                "recommendation": {
                    "cpu": 1.0,
                    "memorySize": 2048,
                    "duration_ms": 182.4,
                    "cost_per_1m": 4.1,
                },
                "saving_vs_live_pct": 37.5,
            },
            "report_url": "https://fcplane.example.com/v1/jobs/job_8c1d0e4b2a/report"
            "?expires=1765700000&signature=5b0c…",
        },
        "/v1/jobs/job_8c1d0e4b2a",
    ),
    EventType.VERSION_PUBLISHED: _Doc(
        "A version was published from the function's applied state.",
        {"version_id": "3", "description": "release 2026-12-07", "from_revision": 5},
        "/v1/accounts/prod/functions/hello/versions",
    ),
    EventType.ALIAS_UPDATED: _Doc(
        "An alias was created, changed (routing, canary weights), rolled back or deleted "
        "(`deleted: true`). `revision` is the alias's own revision.",
        {
            "alias": "prod",
            "revision": 2,
            "source": "update",
            "message": "canary 10% on version 3",
            "deleted": False,
            "changes": [{"path": "/additionalVersionWeight", "base": {}, "value": {"3": 0.1}}],
            "overwritten_changes": [],
        },
        "/v1/accounts/prod/functions/hello/aliases/prod",
    ),
}


def example_body(event: EventType, doc: _Doc) -> dict[str, Any]:
    # Rendered by the real renderer, so the example cannot drift from what is sent.
    sample = Event(
        uid="msg_0b6f3c2d9e8a4f1b",
        type=event.value,
        account="prod",
        function="hello",
        actor=None if event.value.startswith("drift.") else "ci-deployer",
        link="https://fcplane.example.com" + doc.resource,
        payload=doc.data,
        created_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
    )
    return standard_body(sample)


def document_events(app: FastAPI) -> None:
    """Declare every event type in the app's OpenAPI `webhooks` section."""
    missing = set(EventType) - set(EVENTS)
    if missing:  # a new event type must be documented before it ships
        raise RuntimeError(f"undocumented webhook events: {sorted(missing)}")
    for event, doc in EVENTS.items():
        _declare(app, event, doc)
    add_finisher(app, _examples)


def _receiver(model: type[WebhookMessage]) -> Callable[..., Awaitable[None]]:
    async def receive(message: WebhookMessage) -> None:
        """Documentation only: fcplane sends this; your endpoint receives it."""

    # The body parameter's type is what FastAPI documents: this event's model.
    receive.__annotations__ = {"message": model, "return": None}
    return receive


def _examples(schema: dict[str, Any]) -> None:
    for event, doc in EVENTS.items():
        body = schema["webhooks"][event.value]["post"]["requestBody"]
        body["content"]["application/json"]["examples"] = {
            event.value: {"summary": event.value, "value": example_body(event, doc)}
        }


def _declare(app: FastAPI, event: EventType, doc: _Doc) -> None:
    app.webhooks.post(
        event.value,
        summary=event.value,
        description=f"{doc.description}\n\nAnswer with any 2xx within "
        f"`FCPLANE_WEBHOOK_TIMEOUT_SECONDS` ({_DEFAULT_TIMEOUT:g} s by default); anything else "
        "is retried with backoff.",
        operation_id=f"webhook_{event.value.replace('.', '_')}",
        tags=["webhook events"],
    )(_receiver(EVENT_MODELS[event]))
