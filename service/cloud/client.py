"""The SDK client of one account, and how every FC call is made: retries and errors.

Calls go through the official SDK's ``*_async`` methods. Throttling is retried
a bounded number of times, honouring FC's retry-after; every other failure
becomes a domain error (``translate``), and a body the SDK could not parse is an
error, never "empty".
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from Tea.exceptions import TeaException, UnretryableException

from service.cloud.access import FcAccess
from service.cloud.errors import (
    FcAlreadyExists,
    FcAuthFailed,
    FcInvalidArgument,
    FcNotFound,
    FcServerError,
    FcThrottled,
    FcUnreachable,
)
from service.cloud.sdk_clients import SdkClients
from service.kit.errors import DomainError
from service.telemetry.metrics import FC_CALL_OK, observe_fc_call

log = logging.getLogger(__name__)
T = TypeVar("T")

_AUTH_CODES = {"InvalidAccessKeyID", "SignatureNotMatch", "AccessDenied", "InvalidSecurityToken"}


@dataclass(frozen=True)
class FcResult:
    """A successful call: FC's body in wire names, and FC's request id."""

    body: dict[str, Any]
    request_id: str | None


@dataclass(frozen=True)
class Invocation:
    status: int
    body: bytes
    headers: dict[str, str]
    request_id: str | None

    @property
    def error_type(self) -> str | None:
        return self.headers.get("x-fc-error-type")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries for a throttled call
    max_wait_s: float = 10.0  # never sleep longer than this per retry
    base_wait_s: float = 0.2  # used when FC gives no retry-after


class FcClient:
    """Clients per account (cached by their credentials) and the call plumbing."""

    def __init__(
        self,
        retry: RetryPolicy | None = None,
        connect_timeout_ms: int = 5_000,
        read_timeout_ms: int = 60_000,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._clients = SdkClients(
            Client,
            lambda access: access.host,
            connect_timeout_ms=connect_timeout_ms,
            read_timeout_ms=read_timeout_ms,
        )

    @property
    def read_timeout_ms(self) -> int:
        return self._clients.read_timeout_ms

    def client(self, access: FcAccess) -> Client:
        return self._clients.get(access)

    # -- plumbing ------------------------------------------------------------

    async def _body(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[Any]]
    ) -> FcResult:
        response = await self._call(access, action, call)
        if response.body is None:
            # The SDK returns body=None instead of raising when a field has an
            # unexpected shape; silently treating that as "empty" would lose data.
            raise FcServerError(f"{action}: Function Compute's response could not be parsed")
        return FcResult(body=response.body.to_map(), request_id=request_id_of(response))

    async def _request_id(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[Any]]
    ) -> str | None:
        """A call FC answers without a body (a delete): its request id."""
        return request_id_of(await self._call(access, action, call))

    async def _optional(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[Any]]
    ) -> dict[str, Any] | None:
        """The body of a read, or None when FC has no such thing (404)."""
        try:
            return (await self._body(access, action, call)).body
        except FcNotFound:
            return None

    async def _listed(
        self,
        access: FcAccess,
        action: str,
        key: str,
        page: Callable[[Client, str | None], Awaitable[Any]],
    ) -> list[dict[str, Any]]:
        """Every item of a paginated list call (``page(client, next_token)``)."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:

            def call(client: Client, token: str | None = token) -> Awaitable[Any]:
                return page(client, token)

            result = await self._body(access, action, call)
            items.extend(i for i in result.body.get(key) or [] if isinstance(i, dict))
            token = result.body.get("nextToken")
            if not token:
                return items

    async def _call(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[T]]
    ) -> T:
        client = self.client(access)
        for attempt in range(1, self.retry.attempts + 1):
            started = time.perf_counter()  # each attempt is one observed FC call
            try:
                result = await call(client)
            except Exception as exc:
                error = translate(exc, action, access)
                observe_fc_call(action, error.code, time.perf_counter() - started)
                if not isinstance(error, FcThrottled) or attempt == self.retry.attempts:
                    raise error from None
                wait = self._throttle_wait(error, attempt)
                log.info("%s on %s throttled; retrying in %.2fs", action, access.alias, wait)
                await asyncio.sleep(wait)
            else:
                observe_fc_call(action, FC_CALL_OK, time.perf_counter() - started)
                return result
        raise AssertionError("unreachable")

    def _throttle_wait(self, error: FcThrottled, attempt: int) -> float:
        retry_after = error.extra.get("retry_after_s")
        if isinstance(retry_after, int | float) and retry_after > 0:
            return min(float(retry_after), self.retry.max_wait_s)
        backoff = self.retry.base_wait_s * 2 ** (attempt - 1)
        return float(min(backoff * (0.5 + random.random()), self.retry.max_wait_s))


def runtime_options() -> Any:
    from darabonba.runtime import RuntimeOptions

    return RuntimeOptions()


def request_id_of(response: Any) -> str | None:
    headers = getattr(response, "headers", None) or {}
    for key in ("x-acs-request-id", "x-fc-request-id"):
        if headers.get(key):
            return str(headers[key])
    return None


def translate(exc: Exception, action: str, access: FcAccess) -> DomainError:
    """An SDK exception as a domain error; the message never includes credentials."""
    if isinstance(exc, AlibabaCloudException):
        status = int(exc.status_code or 0)
        code = str(exc.code or "")
        message = str(exc.message or "")
        extra: dict[str, Any] = {
            "fc_code": code,
            "fc_message": message,
            "fc_request_id": exc.request_id,
        }
        detail = f"{action}: {code}: {message}" if message else f"{action}: {code}"
        if status == 429 or exc.retry_after or "Throttl" in code:
            return FcThrottled(detail, retry_after_s=exc.retry_after, **extra)
        if status == 404:
            return FcNotFound(detail, **extra)
        if status == 409 and code.endswith("AlreadyExists"):
            return FcAlreadyExists(detail, **extra)
        if status in (401, 403) or code in _AUTH_CODES:
            return FcAuthFailed(
                f"{action}: account '{access.alias}' was refused ({code}); check its access key",
                **extra,
            )
        if 400 <= status < 500:
            return FcInvalidArgument(detail, **extra)
        return FcServerError(detail, **extra)
    if isinstance(exc, UnretryableException | TeaException | OSError | asyncio.TimeoutError):
        # The SDK wraps connection failures; their text names the endpoint only.
        return FcUnreachable(f"{action}: cannot reach {access.endpoint} ({type(exc).__name__})")
    return FcServerError(f"{action}: unexpected {type(exc).__name__} from the FC SDK")
