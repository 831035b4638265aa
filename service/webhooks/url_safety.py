"""Where webhooks may go: URL syntax, and no private destinations unless allowed.

A webhook makes the server send requests wherever a client says; without these
checks it is a way into the internal network (SSRF). Only globally routable
unicast addresses are allowed (``refusal_reason`` lists what is not, by name),
IPv6 forms that carry an IPv4 address are judged by that address, and
FCPLANE_WEBHOOK_ALLOWED_HOSTS opens exceptions. Addresses are checked when
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


# IPv6 forms that carry an IPv4 address. The packet ends up at that IPv4
# address (through a dual-stack socket, a NAT64 gateway, a 6to4 relay or the
# kernel's sit tunnel), so that address must be acceptable too.
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix (RFC 6052)
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated by RFC 4291
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # the IPv4 is in bits 16-47

# Named so a refusal says why. Python's is_global misses several of these (on
# 3.11.7 it calls 64:ff9b:1::1, 2002:7f00:1::, fec0::1 and 3fff::1 global) and
# its answers change between patch releases, so the rules are written out here
# and is_global is only a last net for ranges registered later.
_IPV4_REFUSED: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network' (unspecified)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved for IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_IPV6_REFUSED: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215), never global"),
        ("100::/64", "discard-only"),
        ("2001::/32", "Teredo (tunnelled through a NAT, refused whatever it embeds)"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "reserved for IETF protocol assignments"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "SRv6 segment identifiers"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)
# Everything IANA has handed out for global unicast lies in 2000::/3; the rest
# of the IPv6 space is reserved.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def _embedding(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip in _SIX_TO_FOUR:
        return "6to4", ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED:
        return "IPv4-mapped", last32
    if ip in _NAT64:
        return "NAT64", last32
    # :: and ::1 are the unspecified and loopback addresses, not 0.0.0.0 and 0.0.0.1.
    if ip in _COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", last32
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped (``::ffff:a.b.c.d``),
    NAT64 well-known prefix (``64:ff9b::a.b.c.d``), IPv4-compatible (``::a.b.c.d``)
    or 6to4 (``2002:AABB:CCDD::/48``); None for anything else, Teredo included."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    found = _embedding(ip)
    return None if found is None else found[1]


def _ipv4_refusal(ip: ipaddress.IPv4Address) -> str | None:
    for net, why in _IPV4_REFUSED:
        if ip in net:
            return why
    return None if ip.is_global else "not globally routable"


def refusal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a globally routable unicast address, or None when it is.

    An IPv6 address that embeds an IPv4 one (see ``embedded_ipv4``) is judged
    by that IPv4 address, since that is where the packet goes; IPv4-compatible
    addresses (deprecated since RFC 4291, routed by no one but a local tunnel)
    are refused even when the IPv4 address is public.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_refusal(ip)
    found = _embedding(ip)
    if found is not None:
        form, inner = found
        inner_why = _ipv4_refusal(inner)
        if inner_why is not None:
            return f"the {form} form of {inner}, which is {inner_why}"
        if form == "IPv4-compatible":
            return f"the IPv4-compatible form of {inner} (deprecated, not routed)"
        return None
    for net, why in _IPV6_REFUSED:
        if ip in net:
            return why
    if ip not in _IPV6_GLOBAL_UNICAST:
        return "reserved (outside the global unicast range 2000::/3)"
    return None if ip.is_global else "not globally routable"


class DestinationPolicy:
    """Globally routable addresses, plus the host names and CIDRs of
    FCPLANE_WEBHOOK_ALLOWED_HOSTS.

    An allowed network matches an address as written or the IPv4 address it
    embeds: allowing 10.1.0.0/16 also allows ``::ffff:10.1.2.3`` and
    ``64:ff9b::10.1.2.3``, which reach nothing that 10.1.2.3 itself would not.
    Teredo embeds no address in this sense; it matches only as written.
    """

    def __init__(self, allowed: Iterable[str]) -> None:
        self.names: set[str] = set()
        self.networks: list[IPNetwork] = []
        for entry in allowed:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry.lower().rstrip("."))

    def _listed(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self.networks if net.version == ip.version)

    def listed(self, ip: IPAddress) -> bool:
        """Whether FCPLANE_WEBHOOK_ALLOWED_HOSTS names ``ip`` (or the IPv4 it embeds)."""
        inner = embedded_ipv4(ip)
        return self._listed(ip) or (inner is not None and self._listed(inner))

    def refusal(self, ip: IPAddress) -> str | None:
        """Why webhooks may not reach ``ip``, or None when they may."""
        return None if self.listed(ip) else refusal_reason(ip)

    def allows_ip(self, ip: IPAddress) -> bool:
        return self.refusal(ip) is None

    def allows_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def check_ips(self, host: str, ips: list[IPAddress]) -> None:
        """Refuse when any address is refused: a connection may go to any of them."""
        if self.allows_name(host):
            return
        for ip in ips:
            why = self.refusal(ip)
            if why is not None:
                raise DestinationRefused(
                    f"host {host} is not a public address: {ip} is {why}; "
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
