"""GetLogs through the official SLS SDK (`aliyun-log-python-sdk`), bounded in time.

The SDK is synchronous, so each call runs in a worker thread, under a deadline.
Two SDK behaviours are corrected in a subclass, never by patching the SDK:

- it retries a transport error or a 5xx ten times, a second apart, inside the
  call; fcplane answers a person (or a follow loop that polls again anyway),
  so a failure is final at once: it escapes the retry loop as a
  :class:`_Final` exception;
- it takes ``host:port`` for a host name and sends ``{project}.{host}`` to DNS
  (its raw-IP test looks at the whole endpoint, port included). SLS's real
  endpoints have no port; an emulator's has, so it is reached by IP (the
  project still travels in the ``Host`` header, as SLS reads it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import requests
from aliyun.log import GetLogsRequest, LogClient, LogException

from service.cloud.access import FcAccess
from service.kit.errors import Conflict, DomainError, InvalidInput

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
# Longer than one SDK call may take (it re-asks while SLS says "Incomplete", 5 x 0.5 s).
CALL_DEADLINE_S = 40.0
PAGE = 100  # GetLogs' most lines per call; the SDK pages beyond it

_AUTH_CODES = {
    "Unauthorized",
    "SignatureNotMatch",
    "InvalidAccessKeyId",
    "SecurityTokenInvalid",
    "SecurityTokenExpired",
    "SecurityToken.Expired",
}
_THROTTLE_CODES = {"ReadQuotaExceed", "ExceedQuota", "QpsLimitExceeded", "ServerBusy"}
_QUERY_CODES = {"ParameterInvalid", "QueryParseError", "InvalidQuery", "SyntaxError"}


class SlsNotFound(Conflict):
    """The function's logConfig names a project or logstore SLS does not have."""

    code, title = "sls_not_found", "The function's log project or logstore does not exist"


class SlsAuthFailed(DomainError):
    status, code, title = 502, "sls_auth_failed", "SLS refused the account's credentials"


class SlsThrottled(DomainError):
    status, code, title = 429, "sls_throttled", "SLS is throttling reads"


class SlsError(DomainError):
    status, code, title = 502, "sls_error", "SLS failed"


class SlsUnreachable(DomainError):
    status, code, title = 502, "sls_unreachable", "SLS could not be reached"


@dataclass(frozen=True)
class LogStore:
    """Where a function's logs are: its account (for credentials and region) and logConfig."""

    access: FcAccess
    project: str
    logstore: str


@dataclass(frozen=True)
class RawLog:
    """One item as GetLogs returns it: ``__time__`` (seconds), ``__source__`` and fields."""

    time: int
    source: str
    contents: dict[str, str]

    @property
    def key(self) -> tuple[Any, ...]:
        """Identifies an item across overlapping reads (two identical lines count twice)."""
        return (self.time, self.source, tuple(sorted(self.contents.items())))


@dataclass(frozen=True)
class Query:
    from_s: int
    to_s: int
    topic: str
    query: str
    line: int
    reverse: bool
    offset: int = 0


class _Final(Exception):
    """A failure the SDK must not retry: it is not a LogException, so it escapes."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.detail)
        self.error = error


class _BoundedClient(LogClient):
    def __init__(self, endpoint: str, raw_ip: bool, *args: Any, **kwargs: Any) -> None:
        super().__init__(endpoint, *args, **kwargs)
        self._isRowIp = raw_ip
        self._where = endpoint
        self._http = requests.Session()

    def _getHttpResponse(  # the SDK's name: its retry loop calls it
        self, method: str, url: str, params: Any, body: Any, headers: dict[str, str]
    ) -> tuple[int, bytes, Any]:
        headers["User-Agent"] = "fcplane"
        try:
            response = self._http.request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            )
        except requests.RequestException as exc:
            reason = f"SLS at {self._where} did not answer ({type(exc).__name__})"
            raise _Final(SlsUnreachable(reason)) from None
        if response.status_code >= 500:
            raise _Final(SlsError(f"SLS answered {response.status_code}: {response.text[:300]}"))
        return response.status_code, response.content, response.headers

    def close(self) -> None:
        self._http.close()


def _endpoint(access: FcAccess) -> tuple[str, bool]:
    """(the SDK endpoint, whether it is a raw IP) for this account's SLS."""
    host_port = access.service_endpoint("log")
    if access.is_alibaba_cloud:
        return f"https://{host_port}", False
    host, colon, port = host_port.rpartition(":")
    if not colon:
        host, port = host_port, ""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        try:
            host = str(socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0])
        except OSError as exc:
            raise _Final(SlsUnreachable(f"cannot resolve {host}: {exc.strerror}")) from None
    return f"{access.protocol or 'http'}://{host}{colon}{port}", True


def _translate(exc: LogException, store: LogStore) -> DomainError:
    code, message = exc.get_error_code(), exc.get_error_message()
    where = {"project": store.project, "logstore": store.logstore, "sls_code": code}
    if code in ("ProjectNotExist", "LogStoreNotExist"):
        what = "project" if code == "ProjectNotExist" else "logstore"
        return SlsNotFound(
            f"SLS has no {what} '{getattr(store, what)}' (the function's logConfig.{what}): "
            f"{message}",
            **where,
        )
    if code in _AUTH_CODES:
        return SlsAuthFailed(
            f"SLS refused the credentials of account '{store.access.alias}': {code}", **where
        )
    if code in _THROTTLE_CODES:
        return SlsThrottled(f"SLS is throttling: {message}", **where)
    if code in _QUERY_CODES:
        return InvalidInput(f"SLS refused the query: {message}", field="query", **where)
    return SlsError(f"SLS answered {code}: {message}", **where)


def _get_logs(store: LogStore, query: Query) -> list[RawLog]:
    creds = store.access.credentials
    endpoint, raw_ip = _endpoint(store.access)
    client = _BoundedClient(
        endpoint,
        raw_ip,
        creds.access_key_id,
        creds.access_key_secret,
        creds.security_token,
        source="fcplane",  # else the SDK opens a socket to find this host's IP
    )
    request = GetLogsRequest(
        store.project,
        store.logstore,
        query.from_s,
        query.to_s,
        topic=query.topic,
        query=query.query,
        line=query.line,
        offset=query.offset,
        reverse=query.reverse,
    )
    try:
        response = client.get_logs(request)
    except LogException as exc:
        raise _Final(_translate(exc, store)) from None
    finally:
        client.close()
    return [
        RawLog(int(log.get_time()), str(log.get_source()), dict(log.get_contents()))
        for log in response.get_logs()
    ]


class SlsGateway:
    async def get_logs(self, store: LogStore, query: Query) -> list[RawLog]:
        """GetLogs on ``store``; SLS's failures as domain errors, never a hang."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(_get_logs, store, query), CALL_DEADLINE_S
            )
        except _Final as final:
            raise final.error from None
        except TimeoutError:
            raise SlsUnreachable(
                f"SLS did not answer within {CALL_DEADLINE_S:.0f} s",
                project=store.project,
                logstore=store.logstore,
            ) from None
