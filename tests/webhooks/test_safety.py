"""Which destinations webhooks may reach: the policy table, the API, and the check
repeated at delivery time against the resolved address."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import Database
from service.models.function import FunctionRef
from service.webhooks.outbox import emit
from service.webhooks.schemas import EventType
from service.webhooks.url_safety import (
    DestinationPolicy,
    DestinationRefused,
    embedded_ipv4,
    redact_url,
    refusal_reason,
)
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


@pytest.mark.parametrize(
    ("private", "refusal"),
    [
        ("10.0.0.7", "10.0.0.7 is private"),
        ("64:ff9b::a00:7", "64:ff9b::a00:7 is the NAT64 form of 10.0.0.7, which is private"),
    ],
)
async def test_rebinding_to_a_private_address_is_refused_at_delivery(
    client: httpx.AsyncClient,
    receiver: Receiver,
    engine: AsyncEngine,
    dns: dict[str, str],
    private: str,
    refusal: str,
) -> None:
    dns["hooks.rebind.test"] = "93.184.216.34"  # public when the subscription is saved
    created = await subscribe(client, f"http://hooks.rebind.test:{receiver.port}/hook")
    dns["hooks.rebind.test"] = private  # private (or a NAT64 form of one) when it is used
    async with Database(engine).write() as session:
        await emit(session, EventType.DEPLOY_SUCCEEDED, FunctionRef("local", "f"), {})
    log: list[dict[str, Any]] = []

    async def settled() -> bool:
        nonlocal log
        log = (await client.get(f"/v1/webhooks/{created['id']}/deliveries")).json()["items"]
        return bool(log) and log[0]["status"] == "failed"

    for _ in range(250):
        if await settled():
            break
    assert log[0]["status"] == "failed"
    assert refusal in log[0]["last_error"]
    assert receiver.received() == []


async def test_requests_go_to_the_checked_address_with_the_original_host(
    client: httpx.AsyncClient, receiver: Receiver, engine: AsyncEngine, dns: dict[str, str]
) -> None:
    dns["hooks.allowed.test"] = "127.0.0.1"  # allowed by FCPLANE_WEBHOOK_ALLOWED_HOSTS
    await subscribe(client, f"http://hooks.allowed.test:{receiver.port}/hook?x=1")
    async with Database(engine).write() as session:
        await emit(session, EventType.DEPLOY_SUCCEEDED, FunctionRef("local", "f"), {})
    await eventually(lambda: len(receiver.received()) == 1)
    got = receiver.received()[0]
    assert got.headers["host"] == f"hooks.allowed.test:{receiver.port}"
    assert got.query == {"x": ["1"]}


# (address, allowed with an empty allow-list, why). The rows marked * passed the
# former check (`is_global and not is_multicast` after unmapping) on Python
# 3.11.7, which is why the policy names its rules instead of trusting is_global.
ADDRESSES: list[tuple[str, bool, str]] = [
    # globally routable
    ("8.8.8.8", True, "public IPv4"),
    ("93.184.216.34", True, "public IPv4"),
    ("100.63.255.255", True, "just below shared address space 100.64/10"),
    ("100.128.0.0", True, "just above shared address space"),
    ("172.15.255.255", True, "just below 172.16/12"),
    ("172.32.0.0", True, "just above 172.16/12"),
    ("198.17.255.255", True, "just below benchmarking 198.18/15"),
    ("198.20.0.0", True, "just above benchmarking"),
    ("223.255.255.255", True, "just below multicast"),
    ("2001:4860:4860::8888", True, "public IPv6"),
    ("2606:4700:4700::1111", True, "public IPv6"),
    ("2001:200::1", True, "just above IETF protocol assignments 2001::/23"),
    ("::ffff:8.8.8.8", True, "IPv4-mapped form of a public address"),
    ("64:ff9b::808:808", True, "NAT64 (well-known prefix) of a public address"),
    ("2002:808:808::1", True, "6to4 of a public address"),
    # IPv4 that is not globally routable
    ("0.0.0.0", False, "unspecified"),
    ("0.1.2.3", False, "'this network'"),
    ("10.0.0.1", False, "private"),
    ("10.255.255.255", False, "private, last address"),
    ("100.64.0.1", False, "shared address space (CGNAT)"),
    ("100.127.255.254", False, "shared address space, top"),
    ("127.0.0.1", False, "loopback"),
    ("127.255.255.254", False, "loopback, top"),
    ("169.254.169.254", False, "link-local: cloud metadata"),
    ("172.16.0.1", False, "private"),
    ("172.31.255.255", False, "private, top"),
    ("192.0.0.9", False, "IETF protocol assignments *"),
    ("192.0.0.170", False, "IETF protocol assignments (NAT64 discovery)"),
    ("192.0.2.1", False, "documentation"),
    ("192.88.99.1", False, "deprecated 6to4 relay anycast *"),
    ("192.168.1.1", False, "private"),
    ("198.18.0.1", False, "benchmarking"),
    ("198.19.255.255", False, "benchmarking, top"),
    ("198.51.100.7", False, "documentation"),
    ("203.0.113.5", False, "documentation"),
    ("224.0.0.1", False, "multicast"),
    ("239.255.255.250", False, "multicast (SSDP)"),
    ("240.0.0.1", False, "reserved"),
    ("255.255.255.255", False, "broadcast"),
    # IPv6 that is not globally routable
    ("::", False, "unspecified"),
    ("::1", False, "loopback"),
    ("::127.0.0.1", False, "IPv4-compatible form of loopback *"),
    ("::169.254.169.254", False, "IPv4-compatible form of link-local *"),
    ("::8.8.8.8", False, "IPv4-compatible, deprecated even for a public address *"),
    ("::ffff:127.0.0.1", False, "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", False, "IPv4-mapped private"),
    ("::ffff:a9fe:a9fe", False, "IPv4-mapped link-local, written in hex"),
    ("::ffff:0:a00:1", False, "IPv4-translated (SIIT): reserved space *"),
    ("64:ff9b::7f00:1", False, "NAT64 of loopback *"),
    ("64:ff9b::a9fe:a9fe", False, "NAT64 of link-local *"),
    ("64:ff9b::c0a8:101", False, "NAT64 of private *"),
    ("64:ff9b:1::1", False, "local-use NAT64 prefix *"),
    ("64:ff9b:1::808:808", False, "local-use NAT64, even with a public IPv4 inside *"),
    ("2002:7f00:1::", False, "6to4 of loopback *"),
    ("2002:a00:1::1", False, "6to4 of private *"),
    ("2002:a9fe:a9fe::", False, "6to4 of link-local *"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False, "Teredo, public server and client"),
    ("2001::1", False, "Teredo"),
    ("2001:2::1", False, "benchmarking (IETF protocol assignments)"),
    ("2001:db8::1", False, "documentation"),
    ("3fff::1", False, "documentation (RFC 9637) *"),
    ("5f00::1", False, "SRv6 SIDs *"),
    ("100::1", False, "discard-only"),
    ("4000::1", False, "reserved: outside global unicast 2000::/3 *"),
    ("fc00::1", False, "unique local"),
    ("fd12:3456::1", False, "unique local"),
    ("fe80::1", False, "link-local"),
    ("fe80::1%eth0", False, "link-local with a zone"),
    ("fec0::1", False, "site-local (deprecated) *"),
    ("ff02::1", False, "multicast, link scope"),
    ("ff0e::1", False, "multicast, global scope"),
]


def test_table_has_enough_rows_and_no_duplicates() -> None:
    assert len(ADDRESSES) >= 40
    assert len({address for address, _, _ in ADDRESSES}) == len(ADDRESSES)


@pytest.mark.parametrize(("address", "allowed", "why"), ADDRESSES)
def test_only_globally_routable_addresses_are_allowed(
    address: str, allowed: bool, why: str
) -> None:
    ip = ipaddress.ip_address(address)
    reason = refusal_reason(ip)
    assert (reason is None) is allowed, f"{address} ({why}): {reason}"
    assert DestinationPolicy([]).allows_ip(ip) is allowed, why


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("64:ff9b::a01:203", "10.1.2.3"),
        ("::10.1.2.3", "10.1.2.3"),
        ("2002:a01:203:4::5", "10.1.2.3"),
        ("::", None),  # unspecified, not IPv4-compatible 0.0.0.0
        ("::1", None),  # loopback, not IPv4-compatible 0.0.0.1
        ("64:ff9b:1::a01:203", None),  # local-use NAT64: where the IPv4 sits is site-specific
        ("2001:0:4136:e378:8000:63bf:f5fe:fdfc", None),  # Teredo (client 10.1.2.3)
        ("2001:4860::1", None),
        ("10.1.2.3", None),
    ],
)
def test_embedded_ipv4(address: str, embedded: str | None) -> None:
    found = embedded_ipv4(ipaddress.ip_address(address))
    assert (None if found is None else str(found)) == embedded


# An allowed network matches the address as written or the IPv4 address it
# embeds; Teredo and local-use NAT64 only as written.
ALLOW_LIST = ["10.1.0.0/16", "127.0.0.1", "intranet.example", "fd00::/8"]
ALLOWED_BY_LIST: list[tuple[str, bool, str]] = [
    ("10.1.2.3", True, "listed CIDR"),
    ("::ffff:10.1.2.3", True, "IPv4-mapped form of a listed address"),
    ("64:ff9b::a01:203", True, "NAT64 form of a listed address"),
    ("2002:a01:203::", True, "6to4 form of a listed address"),
    ("::10.1.2.3", True, "IPv4-compatible form of a listed address"),
    ("127.0.0.1", True, "listed single address"),
    ("::ffff:7f00:1", True, "IPv4-mapped form of the listed single address"),
    ("fd00::1", True, "listed IPv6 CIDR"),
    ("8.8.8.8", True, "public, listed or not"),
    ("10.2.0.1", False, "private, outside the listed CIDR"),
    ("::ffff:10.2.0.1", False, "mapped form of an unlisted private address"),
    ("127.0.0.2", False, "loopback, not the listed one"),
    ("::1", False, "IPv6 loopback is not 127.0.0.1"),
    ("fe80::1", False, "link-local, unlisted"),
    ("64:ff9b:1::a01:203", False, "local-use NAT64 carries no address the list can match"),
    ("2001:0:4136:e378:8000:63bf:f5fe:fdfc", False, "Teredo with client 10.1.2.3"),
]


@pytest.mark.parametrize(("address", "allowed", "why"), ALLOWED_BY_LIST)
def test_allow_list_matches_written_or_embedded_address(
    address: str, allowed: bool, why: str
) -> None:
    policy = DestinationPolicy(ALLOW_LIST)
    assert policy.allows_ip(ipaddress.ip_address(address)) is allowed, why


async def test_refusals_name_the_address_and_the_reason() -> None:
    policy = DestinationPolicy(ALLOW_LIST)
    policy.check_ips("intranet.example", [ipaddress.ip_address("192.168.1.1")])
    with pytest.raises(DestinationRefused) as refused:
        policy.check_ips(
            "other.example", [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("fec0::1")]
        )
    assert str(refused.value) == (
        "host other.example is not a public address: fec0::1 is site-local (deprecated); "
        "add it to FCPLANE_WEBHOOK_ALLOWED_HOSTS to allow it"
    )
    with pytest.raises(DestinationRefused, match=r"the NAT64 form of 169\.254\.169\.254, which"):
        await policy.resolve("64:ff9b::a9fe:a9fe", 80)
    with pytest.raises(DestinationRefused, match="is loopback"):
        await DestinationPolicy([]).resolve("localhost", 80)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::169.254.169.254]/latest/meta-data",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b:1::808:808]/hook",
        "http://[2002:c0a8:101::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "http://[fec0::1]:8080/hook",
        "http://198.18.0.1/hook",
    ],
)
async def test_the_api_refuses_embedded_and_special_addresses(
    client: httpx.AsyncClient, url: str
) -> None:
    response = await client.post("/v1/webhooks", json={"url": url, "events": ["deploy.failed"]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "destination_not_allowed"
    assert [e["field"] for e in body["errors"]] == ["url"]
    assert "is not a public address" in body["errors"][0]["message"]


async def test_the_api_accepts_a_nat64_form_of_a_public_address(
    client: httpx.AsyncClient,
) -> None:
    created = await subscribe(client, "http://[64:ff9b::808:808]/hook")
    assert created["url"] == "http://[64:ff9b::808:808]/hook"


def test_redaction() -> None:
    assert (
        redact_url("https://h.example/p?access_token=abc&x=", mask_last_segment=False)
        == "https://h.example/p?access_token=%2A%2A%2A&x=%2A%2A%2A"
    )
    assert redact_url("https://h.example/a/b/", mask_last_segment=True) == "https://h.example/a/***"
