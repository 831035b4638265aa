"""Destinations are checked again at delivery time, against the resolved address."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import Database
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType
from service.webhooks.url_safety import DestinationPolicy, DestinationRefused, redact_url
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import Receiver, eventually

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Host names the test resolves itself, as an attacker's DNS server would."""
    answers: dict[str, str] = {}

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


async def test_rebinding_to_a_private_address_is_refused_at_delivery(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine, dns: dict[str, str]
) -> None:
    dns["hooks.rebind.test"] = "93.184.216.34"  # public when the subscription is saved
    created = await subscribe(client, f"http://hooks.rebind.test:{receiver.port}/hook")
    dns["hooks.rebind.test"] = "10.0.0.7"  # private when it is used
    async with Database(engine).write() as session:
        await emit(session, EventType.DEPLOY_SUCCEEDED, "f", {})
    log: list[dict[str, Any]] = []

    async def settled() -> bool:
        nonlocal log
        log = (await client.get(f"/v1/webhooks/{created['id']}/deliveries")).json()["items"]
        return bool(log) and log[0]["status"] == "failed"

    for _ in range(250):
        if await settled():
            break
    assert log[0]["status"] == "failed"
    assert "10.0.0.7" in log[0]["last_error"]
    assert receiver.received() == []


async def test_requests_go_to_the_checked_address_with_the_original_host(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine, dns: dict[str, str]
) -> None:
    dns["hooks.allowed.test"] = "127.0.0.1"  # allowed by FCPLANE_WEBHOOK_ALLOWED_HOSTS
    await subscribe(client, f"http://hooks.allowed.test:{receiver.port}/hook?x=1")
    async with Database(engine).write() as session:
        await emit(session, EventType.DEPLOY_SUCCEEDED, "f", {})
    await eventually(lambda: len(receiver.received()) == 1)
    got = receiver.received()[0]
    assert got.headers["host"] == f"hooks.allowed.test:{receiver.port}"
    assert got.query == {"x": ["1"]}


async def test_policy() -> None:
    policy = DestinationPolicy(["10.1.0.0/16", "intranet.example", "fd00::/8"])
    assert policy.allows_ip(ipaddress.ip_address("8.8.8.8"))
    assert policy.allows_ip(ipaddress.ip_address("10.1.2.3"))
    assert policy.allows_ip(ipaddress.ip_address("fd00::1"))
    for refused in ("10.2.0.1", "127.0.0.1", "169.254.169.254", "::1", "fe80::1", "224.0.0.1"):
        assert not policy.allows_ip(ipaddress.ip_address(refused)), refused
    assert not policy.allows_ip(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert policy.allows_ip(ipaddress.ip_address("::ffff:10.1.0.9"))
    policy.check_ips("intranet.example", [ipaddress.ip_address("192.168.1.1")])
    with pytest.raises(DestinationRefused):
        policy.check_ips("other.example", [ipaddress.ip_address("192.168.1.1")])
    with pytest.raises(DestinationRefused, match="private"):
        await policy.resolve("localhost", 80)


def test_redaction() -> None:
    assert (
        redact_url("https://h.example/p?access_token=abc&x=", mask_last_segment=False)
        == "https://h.example/p?access_token=%2A%2A%2A&x=%2A%2A%2A"
    )
    assert redact_url("https://h.example/a/b/", mask_last_segment=True) == "https://h.example/a/***"
