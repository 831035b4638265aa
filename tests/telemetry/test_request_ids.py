"""X-Request-ID over HTTP: kept when the client sends a sane one, generated otherwise,
echoed in the response and in problem bodies (`instance`), stored with the webhook
events a request causes and bound while they are delivered (their log lines carry it)."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest
from alibabacloud_fc20230330.client import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.kit.errors import INSTANCE_PREFIX
from service.kit.logging import RequestIdFilter
from service.kit.settings import Settings
from service.models import WebhookEvent
from tests.deploys.conftest import first_deploy
from tests.telemetry.conftest import scrape
from tests.webhooks.conftest import FAST, receiver, subscribe
from tests.webhooks.receiver import Receiver, Reply

__all__ = ["receiver"]
GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_a_client_id_comes_back_in_the_header_and_the_problem(
    anonymous: httpx.AsyncClient,
) -> None:
    ok = await anonymous.get("/healthz", headers={"X-Request-ID": "ci-run-42.step:7"})
    assert ok.headers["x-request-id"] == "ci-run-42.step:7"
    refused = await anonymous.get("/v1/accounts", headers={"X-Request-ID": "ci-run-43"})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == "ci-run-43"
    assert refused.json()["instance"] == INSTANCE_PREFIX + "ci-run-43"
    # The body limit answers outside the application, still inside the request id.
    too_big = await anonymous.post(
        "/v1/tokens",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"X-Request-ID": "big-1", "content-type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["instance"] == INSTANCE_PREFIX + "big-1"


@pytest.mark.parametrize(
    "sent",
    [None, "", "has space", "x" * 65, "-leading-dash", "semi;colon", "ümlaut".encode(), "a/b"],
)
async def test_a_missing_or_malformed_id_is_replaced_by_a_generated_one(
    anonymous: httpx.AsyncClient, sent: str | bytes | None
) -> None:
    value = sent.encode() if isinstance(sent, str) else sent
    headers = {} if value is None else {b"X-Request-ID": value}
    response = await anonymous.get("/v1/nope", headers=headers)
    assert response.status_code == 404
    generated = response.headers["x-request-id"]
    assert GENERATED.fullmatch(generated), generated
    assert response.json()["instance"] == INSTANCE_PREFIX + generated


async def test_every_response_gets_its_own_id(anonymous: httpx.AsyncClient) -> None:
    ids = {(await anonymous.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


async def test_webhook_events_keep_the_request_id_and_deliveries_log_under_it(
    client: httpx.AsyncClient,
    fc: Client,
    fc_account: str,
    receiver: Receiver,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="service.webhooks.dispatcher")
    receiver.script.append(Reply(status=500))  # one failed attempt, then delivered
    await subscribe(client, receiver.url, events=["deploy.succeeded"])
    client.headers["X-Request-ID"] = "deploy-7f3a"
    await first_deploy(client, "hello")
    del client.headers["X-Request-ID"]

    async with AsyncSession(engine) as session:
        event = await session.scalar(
            select(WebhookEvent).where(WebhookEvent.type == "deploy.succeeded")
        )
    assert event is not None
    assert event.request_id == "deploy-7f3a"

    for _ in range(400):
        if len(receiver.requests) >= 2 and _delivery_lines(caplog, "delivered"):
            break
        await asyncio.sleep(0.025)
    for outcome in ("retry", "delivered"):
        lines = _delivery_lines(caplog, outcome)
        assert lines, f"no '{outcome}' delivery line in {caplog.messages}"
        assert {getattr(r, "request_id", None) for r in lines} == {"deploy-7f3a"}
    scraped = await scrape(client)
    assert scraped.count("fcplane_webhook_delivery_attempts_total", outcome="retry") == 1
    assert scraped.count("fcplane_webhook_delivery_attempts_total", outcome="delivered") == 1


def _delivery_lines(caplog: pytest.LogCaptureFixture, outcome: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "service.webhooks.dispatcher" and f": {outcome} (" in r.getMessage()
    ]
