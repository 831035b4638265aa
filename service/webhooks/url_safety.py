"""Where webhooks may go: URL syntax, and no private destinations unless allowed.

A webhook makes the server send requests wherever a client says; without these
checks it is a way into the internal network (SSRF). Addresses are checked when
a subscription is saved and again, after resolution, right before every
attempt, and the request then goes to exactly the checked address, so a DNS
answer that changes in between (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_TIMEOUT_S = 2.0


class DestinationRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


def check_url_syntax(value: str) -> str:
    """http(s), a host, no credentials, no whitespace; the pydantic validator of `url`."""
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must not contain whitespace or control characters")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"}:
        raise ValueError("scheme must be http or https")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (user:password@)")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - raises on a non-numeric or out-of-range port
    except ValueError:
        raise ValueError("port must be a number between 1 and 65535") from None
    if parts.fragment:
        raise ValueError("must not have a #fragment (it is never sent)")
    return value


def redact_url(url: str, *, mask_last_segment: bool) -> str:
    """The URL without what may be a credential: query values, and for robots the token."""
    parts = urlsplit(url)
    query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)])
    path = parts.path
    if mask_last_segment:
        head, _, last = path.rstrip("/").rpartition("/")
        if last:
            path = f"{head}/***"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class DestinationPolicy:
    """Public addresses, plus the host names and CIDRs of FCPLANE_WEBHOOK_ALLOWED_HOSTS."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.names: set[str] = set()
        self.networks: list[IPNetwork] = []
        for entry in allowed:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry.lower().rstrip("."))

    def allows_ip(self, ip: IPAddress) -> bool:
        ip = _unmapped(ip)
        if any(ip in net for net in self.networks if net.version == ip.version):
            return True
        # is_global is False for private, loopback, link-local, shared (CGNAT),
        # reserved and unspecified ranges.
        return ip.is_global and not ip.is_multicast

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def check_ips(self, host: str, ips: list[IPAddress]) -> None:
        if self.allows_name(host):
            return
        refused = [str(ip) for ip in ips if not self.allows_ip(ip)]
        if refused:
            raise DestinationRefused(
                f"host {host} is a private, loopback or link-local address ({refused[0]}); "
                "add it to FCPLANE_WEBHOOK_ALLOWED_HOSTS to allow it"
            )

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to, each one allowed; raises DestinationRefused."""
        literal = _ip_literal(host)
        if literal is not None:
            self.check_ips(host, [literal])
            return [literal]
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
        except (OSError, TimeoutError) as exc:
            reason = f"host {host} does not resolve ({type(exc).__name__})"
            raise DestinationRefused(reason) from None
        ips = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not ips:
            raise DestinationRefused(f"host {host} does not resolve")
        self.check_ips(host, ips)
        return ips

    async def check_url(self, url: str) -> None:
        """At subscription time: refuse what is refused now; a name that does not resolve
        yet is accepted (it is checked again before every attempt)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            await self.resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
        except DestinationRefused as exc:
            if "does not resolve" not in str(exc):
                raise


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
