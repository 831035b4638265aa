"""One HTTP attempt to the checked address, and what its answer means.

Nothing here may put the URL (robots carry tokens in it) or a secret into an
error text: those end up in the delivery log.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from service.webhooks.messages import Request
from service.webhooks.schemas import Format, Outcome
from service.webhooks.url_safety import DestinationPolicy, DestinationRefused

EXCERPT_CHARS = 500
_READ_LIMIT = 4096
# Statuses that say "not now" rather than "never".
_RETRYABLE = {408, 425, 429}


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    latency_ms: int
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: float | None = None


class Connections:
    """Bare httpx transports, one per host name.

    Not an AsyncClient: no redirects are ever followed, no proxy from the
    environment reaches the host by name again (bypassing the address check),
    and nothing logs the URL, which may carry a robot's token (AsyncClient logs
    every request URL at INFO). One transport per name because requests go to
    the checked IP address: a shared pool would hand a TLS connection verified
    for one name to another name on the same address.
    """

    MAX_HOSTS = 256

    def __init__(self) -> None:
        self._by_host: dict[str, httpx.AsyncHTTPTransport] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def for_host(self, host: str) -> httpx.AsyncHTTPTransport:
        transport = self._by_host.pop(host, None)
        if transport is None:
            transport = httpx.AsyncHTTPTransport(
                trust_env=False,
                retries=0,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
            if len(self._by_host) >= self.MAX_HOSTS:
                # The least recently used one; its open connections just close.
                oldest = next(iter(self._by_host))
                closing = asyncio.create_task(self._by_host.pop(oldest).aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._by_host[host] = transport  # most recently used last
        return transport

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(self, *_: object) -> None:
        transports, self._by_host = list(self._by_host.values()), {}
        for transport in transports:
            await transport.aclose()


def new_client() -> Connections:
    return Connections()


def _pinned(url: str, ip: str, params: dict[str, str]) -> tuple[str, str]:
    """The URL with its host replaced by the checked address, and the Host header."""
    parts = urlsplit(url)
    host = f"[{ip}]" if ":" in ip else ip
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = parts.query
    if params:
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    host_header = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", query, "")), host_header


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _robot_error(fmt: Format, body: str) -> str | None:
    """DingTalk and Feishu answer 200 with an error code in the body."""
    if fmt not in (Format.DINGTALK, Format.FEISHU):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    key = "errcode" if fmt is Format.DINGTALK else "code"
    code = data.get(key, data.get("StatusCode", 0))
    if code in (0, None):
        return None
    message = data.get("errmsg") if fmt is Format.DINGTALK else data.get("msg")
    return f"{fmt.value} {key} {code}: {str(message)[:200]}"


def _classify(
    fmt: Format, response: httpx.Response, body: str, now: datetime
) -> tuple[Outcome, str | None, float | None]:
    """(outcome, error, retry_after) for an answer."""
    status = response.status_code
    if 200 <= status < 300:
        error = _robot_error(fmt, body)
        # A robot's rate limit, wrong signature or keyword filter may all be
        # fixed on its side while retries continue.
        return (Outcome.DELIVERED, None, None) if error is None else (Outcome.RETRY, error, None)
    if status == 410:
        return Outcome.DISABLED, "HTTP 410 Gone: the receiver asked to stop; disabled", None
    if status in _RETRYABLE or status >= 500:
        delay = retry_after_seconds(response.headers.get("retry-after"), now)
        return Outcome.RETRY, f"HTTP {status}", delay
    if 300 <= status < 400:
        return Outcome.FAILED, f"HTTP {status}: redirects are not followed", None
    return Outcome.FAILED, f"HTTP {status}", None


async def attempt(
    client: Connections,
    policy: DestinationPolicy,
    fmt: Format,
    url: str,
    request: Request,
    timeout: float,
) -> AttemptResult:
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ips = await policy.resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except DestinationRefused as exc:
        # Not resolving may pass; resolving to a refused address is a decision.
        outcome = Outcome.RETRY if "does not resolve" in str(exc) else Outcome.FAILED
        return AttemptResult(outcome, elapsed(), error=str(exc)[:300])
    target, host_header = _pinned(url, str(ips[0]), request.params)
    extensions: dict[str, object] = {"timeout": httpx.Timeout(timeout).as_dict()}
    if parts.scheme == "https":
        extensions["sni_hostname"] = host
    outgoing = httpx.Request(
        "POST",
        target,
        content=request.body,
        headers={**request.headers, "host": host_header},
        extensions=extensions,
    )
    chunks: list[bytes] = []
    try:
        # Each phase has `timeout`; the whole attempt gets a hard cap too, so
        # a receiver that drips bytes cannot hold a slot for long.
        async with asyncio.timeout(timeout * 2 + 1):
            response = await client.for_host(host).handle_async_request(outgoing)
            try:
                size = 0
                async for chunk in response.stream:  # type: ignore[union-attr]
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= _READ_LIMIT:
                        break
            finally:
                await response.aclose()
    except (httpx.TimeoutException, TimeoutError) as exc:
        return AttemptResult(
            Outcome.RETRY, elapsed(), error=f"timeout after {timeout:g}s ({type(exc).__name__})"
        )
    except httpx.TransportError as exc:
        reason = f"connection failed ({type(exc).__name__})"
        return AttemptResult(Outcome.RETRY, elapsed(), error=reason)
    body = b"".join(chunks)[:_READ_LIMIT].decode("utf-8", errors="replace").strip()
    outcome, error, retry_after = _classify(fmt, response, body, datetime.now(UTC))
    return AttemptResult(
        outcome, elapsed(), response.status_code, body[:EXCERPT_CHARS] or None, error, retry_after
    )
