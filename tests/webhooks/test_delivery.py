"""Delivery to a real receiver on loopback: signatures, retries, ordering, the log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import Database
from service.models import WebhookDelivery, WebhookEvent
from service.models.function import FunctionRef
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType, Format
from tests.webhooks import standard_webhooks
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver, Reply, eventually


async def _emit(engine: AsyncEngine, function: str, n: int, **payload: object) -> None:
    async with Database(engine).write() as session:
        await emit(
            session,
            EventType.DEPLOY_SUCCEEDED,
            FunctionRef("local", function),
            {"revision": n, **payload},
            actor="ci",
        )


async def _log(client: httpx.AsyncClient, webhook_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _settled(
    client: httpx.AsyncClient, webhook_id: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The delivery log once nothing is pending any more."""
    deadline = time.monotonic() + timeout
    while True:
        log = await _log(client, webhook_id)
        if log and all(d["status"] != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, f"still pending: {log}"
        await asyncio.sleep(0.02)


async def test_test_event_is_signed_per_standard_webhooks(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(client, receiver.url)
    # A receiver that takes 20 ms (far inside the 0.5 s timeout, even on a busy
    # machine) gives the recorded latency a floor: it is measured, in milliseconds.
    receiver.script.append(Reply(delay=0.02))
    started = time.monotonic()
    queued = await client.post(f"/v1/webhooks/{created['id']}/test")
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "pending"
    await eventually(lambda: len(receiver.received()) == 1, what="the test event")
    got = receiver.received()[0]
    standard_webhooks.verify(created["secret"], got.headers, got.body)
    with pytest.raises(standard_webhooks.Invalid):
        standard_webhooks.verify(created["secret"], got.headers, got.body + b" ")
    assert got.headers["webhook-id"] == queued.json()["event_id"]
    assert got.headers["content-type"] == "application/json"
    body = got.json()
    assert body["type"] == "webhook.test"
    assert body["link"] == f"https://fcplane.example.com/v1/webhooks/{created['id']}"
    assert created["secret"] not in got.body.decode()
    (entry,) = await _settled(client, created["id"])
    assert entry["status"] == "delivered"
    assert entry["attempts"] == 1
    (attempt,) = entry["attempt_log"]
    assert attempt["outcome"] == "delivered"
    assert attempt["status_code"] == 200
    assert attempt["response_excerpt"] == "ok"
    assert 20 <= attempt["latency_ms"] <= (time.monotonic() - started) * 1000, attempt


async def test_receiver_down_then_back_gets_every_event_in_order(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.stop()
    for n in range(1, 6):
        await _emit(engine, "alpha", n)
        await _emit(engine, "beta", n)

    async def failed_attempts() -> int:
        return sum(len(d["attempt_log"]) for d in await _log(client, created["id"]))

    deadline = time.monotonic() + 10
    while await failed_attempts() < 6:  # both heads retried a few times
        assert time.monotonic() < deadline, "no retries recorded while the receiver was down"
        await asyncio.sleep(0.02)
    log = await _log(client, created["id"])
    errors = {a["error"] for d in log for a in d["attempt_log"]}
    assert errors == {"connection failed (ConnectError)"}
    receiver.start()
    await eventually(lambda: len({r.headers["webhook-id"] for r in receiver.received()}) == 10)
    by_function: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for request in receiver.received():
        standard_webhooks.verify(created["secret"], request.headers, request.body)
        if request.headers["webhook-id"] in seen:
            continue  # at least once: receivers deduplicate by webhook-id
        seen.add(request.headers["webhook-id"])
        body = request.json()
        by_function[body["function"]].append(body["data"]["revision"])
    assert by_function == {"alpha": [1, 2, 3, 4, 5], "beta": [1, 2, 3, 4, 5]}


async def test_slow_receiver_times_out_and_is_retried(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.script.extend([Reply(delay=1.5), Reply(delay=1.5)])
    await _emit(engine, "slow", 1)
    await eventually(lambda: len(receiver.received()) >= 3, what="two timeouts and a retry")
    (entry,) = await _settled(client, created["id"])
    assert entry["status"] == "delivered"
    *retries, last = [(a["outcome"], a["error"]) for a in entry["attempt_log"]]
    assert len(retries) >= 2  # more only on a machine too busy to answer in 0.5 s
    for outcome, error in retries:
        assert outcome == "retry"
        assert error.startswith("timeout after 0.5s (")
    assert last == ("delivered", None)
    assert len({r.headers["webhook-id"] for r in receiver.received()}) == 1


async def test_410_disables_the_subscription(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.script.append(Reply(status=410))
    await _emit(engine, "gone", 1)
    await eventually(lambda: len(receiver.received()) == 1)
    await _settled(client, created["id"])
    shown = (await client.get(f"/v1/webhooks/{created['id']}")).json()
    assert "410" in shown["disabled_reason"]
    (entry,) = await _log(client, created["id"])
    assert entry["status"] == "failed"
    assert entry["attempt_log"][0]["outcome"] == "disabled"
    await _emit(engine, "gone", 2)  # not queued for a disabled subscription
    test = await client.post(f"/v1/webhooks/{created['id']}/test")
    assert test.status_code == 409
    assert len(receiver.received()) == 1


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url)
    # The backoff alone would come back after at most 0.2 s.
    receiver.script.append(Reply(status=429, headers={"Retry-After": "1"}))
    await _emit(engine, "throttled", 1)
    await eventually(lambda: len(receiver.received()) == 2)
    first, second = receiver.received()
    assert second.at - first.at >= 0.95
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


async def test_permanent_4xx_gives_up_and_unblocks_the_next_event(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.script.append(Reply(status=400, body=b"bad payload"))
    await _emit(engine, "f", 1)
    await _emit(engine, "f", 2)
    await eventually(lambda: len(receiver.received()) == 2)
    assert [r.json()["data"]["revision"] for r in receiver.received()] == [1, 2]
    log = await _settled(client, created["id"])
    assert [d["status"] for d in log] == ["delivered", "failed"]  # newest first
    failed = log[1]
    only = await client.get(f"/v1/webhooks/{created['id']}/deliveries", params={"status": "failed"})
    assert [d["id"] for d in only.json()["items"]] == [failed["id"]]
    assert failed["attempt_log"][0]["response_excerpt"] == "bad payload"
    assert failed["last_status_code"] == 400


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.script.append(Reply(status=302, headers={"Location": "http://10.0.0.1/"}))
    await _emit(engine, "f", 1)
    (entry,) = await _settled(client, created["id"])
    assert entry["last_error"] == "HTTP 302: redirects are not followed"
    assert len(receiver.received()) == 1


async def test_rolled_back_change_sends_nothing(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url)
    async with Database(engine).read() as session:
        await emit(session, EventType.DEPLOY_FAILED, FunctionRef("local", "f"), {"error": "boom"})
        await session.rollback()
    await _emit(engine, "f", 2)  # a committed one after it, as a marker
    await eventually(lambda: len(receiver.received()) == 1)
    assert receiver.received()[0].json()["type"] == "deploy.succeeded"
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(WebhookEvent)) == 1


async def test_filters_by_event_and_function(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url, events=["deploy.succeeded"], functions=["mine"])
    await _emit(engine, "other", 1)
    async with Database(engine).write() as session:
        await emit(session, EventType.DRIFT_OPENED, FunctionRef("local", "mine"), {})
    await _emit(engine, "mine", 7)
    await eventually(lambda: len(receiver.received()) == 1)
    assert receiver.received()[0].json()["data"]["revision"] == 7
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


async def test_redeliver_sends_the_same_event_again(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    await _emit(engine, "f", 1)
    await eventually(lambda: len(receiver.received()) == 1)
    (entry,) = await _settled(client, created["id"])
    again = await client.post(f"/v1/webhook-deliveries/{entry['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending"
    await eventually(lambda: len(receiver.received()) == 2)
    first, second = receiver.received()
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    (entry,) = await _settled(client, created["id"])
    assert entry["status"] == "delivered"
    assert len(entry["attempt_log"]) == 2
    assert (await client.post("/v1/webhook-deliveries/999999/redeliver")).status_code == 404


async def test_rotation_signs_with_both_secrets_during_grace(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await subscribe(client, receiver.url)
    rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", json={})
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]
    # The old secret stays valid for the default grace period, a day.
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(days=1)
    await client.post(f"/v1/webhooks/{created['id']}/test")
    await eventually(lambda: len(receiver.received()) == 1)
    got = receiver.received()[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    standard_webhooks.verify(created["secret"], got.headers, got.body)
    standard_webhooks.verify(new_secret, got.headers, got.body)
    # Without grace the old secret stops at once.
    again = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret", json={"grace_seconds": 0}
    )
    await client.post(f"/v1/webhooks/{created['id']}/test")
    await eventually(lambda: len(receiver.received()) == 2)
    got = receiver.received()[1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    standard_webhooks.verify(again.json()["secret"], got.headers, got.body)
    with pytest.raises(standard_webhooks.Invalid):
        standard_webhooks.verify(new_secret, got.headers, got.body)


async def test_no_secrets_in_logs_or_the_delivery_log(
    client: httpx.AsyncClient,
    receiver: Receiver,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = receiver.url + "?access_token=very-secret-token"
    created = await subscribe(client, url, format="dingtalk", secret="SECsigning-secret")
    receiver.script.append(Reply(status=500))
    receiver.default = Reply(body=b'{"errcode":0}')
    await _emit(engine, "f", 1, access_key_secret="ak-secret", token="bearer-x")
    await eventually(lambda: len(receiver.received()) == 2)
    log = await _settled(client, created["id"])
    everything = caplog.text + json.dumps(log)
    everything += json.dumps((await client.get(f"/v1/webhooks/{created['id']}")).json())
    for secret in ("very-secret-token", "SECsigning-secret", "ak-secret", "bearer-x"):
        assert secret not in everything
    assert "ak-secret" not in receiver.received()[0].body.decode()


async def test_deleting_a_subscription_drops_its_pending_deliveries(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    created = await subscribe(client, receiver.url)
    receiver.script.append(Reply(delay=0.3))
    await _emit(engine, "f", 1)
    await _emit(engine, "f", 2)
    await eventually(lambda: len(receiver.received()) == 1)
    assert (await client.delete(f"/v1/webhooks/{created['id']}")).status_code == 204
    await asyncio.sleep(0.6)  # the in-flight attempt finishes and is recorded nowhere
    assert len(receiver.received()) == 1
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


async def test_payload_values_are_made_json_ready_at_emit(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine
) -> None:
    await subscribe(client, receiver.url)
    await _emit(engine, "f", 1, at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), kind=Format.SLACK)
    await eventually(lambda: len(receiver.received()) == 1)
    data = receiver.received()[0].json()["data"]
    assert data["at"] == "2026-01-02T03:04:05Z"
    assert data["kind"] == "slack"
