"""One async gateway over the official SDK (`alibabacloud-fc20230330`, `*_async` methods).

Function configs cross this boundary as plain dicts in FC's wire names
(camelCase, exactly as GetFunction returns them), so the rest of fcplane never
touches SDK model classes. Tags are the exception to "config goes through
UpdateFunction": FC changes them through its tag API (TagResources,
UntagResources, ListTagResources), which names a function by its
``functionArn``. Throttling is retried a bounded number of times, honouring
FC's retry-after; every other failure becomes a domain error.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from alibabacloud_fc20230330 import models as fc
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config
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
from service.kit.errors import DomainError

log = logging.getLogger(__name__)
T = TypeVar("T")

# FC 3.0's one taggable resource type (also spelled ALIYUN::FC::FUNCTION).
TAG_RESOURCE_TYPE = "function"
UNTAG_KEYS_PER_CALL = 50  # UntagResources: "You can specify up to 50 tag keys"
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


class FcGateway:
    def __init__(
        self,
        retry: RetryPolicy | None = None,
        connect_timeout_ms: int = 5_000,
        read_timeout_ms: int = 60_000,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.connect_timeout_ms = connect_timeout_ms
        self.read_timeout_ms = read_timeout_ms
        self._clients: dict[tuple[str, ...], Client] = {}

    def client(self, access: FcAccess) -> Client:
        key = access.cache_key()
        client = self._clients.get(key)
        if client is None:
            # An account edited in place (rotated secret, new endpoint) gets a
            # new client; the stale one for the same alias is dropped.
            for old in [k for k in self._clients if k[0] == access.alias]:
                del self._clients[old]
            creds = access.credentials
            client = self._clients[key] = Client(
                Config(
                    access_key_id=creds.access_key_id,
                    access_key_secret=creds.access_key_secret,
                    security_token=creds.security_token,
                    region_id=access.region,
                    endpoint=access.host,
                    protocol=access.protocol,
                    connect_timeout=self.connect_timeout_ms,
                    read_timeout=self.read_timeout_ms,
                )
            )
        return client

    # -- functions ---------------------------------------------------------

    async def get_function(
        self, access: FcAccess, name: str, qualifier: str | None = None
    ) -> FcResult:
        request = fc.GetFunctionRequest(qualifier=qualifier)
        return await self._body(
            access, "GetFunction", lambda c: c.get_function_async(name, request)
        )

    async def create_function(self, access: FcAccess, config: dict[str, Any]) -> FcResult:
        body = fc.CreateFunctionInput().from_map(config)
        request = fc.CreateFunctionRequest(body=body)
        return await self._body(
            access, "CreateFunction", lambda c: c.create_function_async(request)
        )

    async def update_function(
        self, access: FcAccess, name: str, config: dict[str, Any]
    ) -> FcResult:
        body = fc.UpdateFunctionInput().from_map(config)
        request = fc.UpdateFunctionRequest(body=body)
        return await self._body(
            access, "UpdateFunction", lambda c: c.update_function_async(name, request)
        )

    async def delete_function(self, access: FcAccess, name: str) -> str | None:
        response = await self._call(
            access, "DeleteFunction", lambda c: c.delete_function_async(name)
        )
        return _request_id(response)

    async def get_function_code(self, access: FcAccess, name: str) -> FcResult:
        request = fc.GetFunctionCodeRequest()
        return await self._body(
            access, "GetFunctionCode", lambda c: c.get_function_code_async(name, request)
        )

    async def list_functions(
        self, access: FcAccess, prefix: str | None = None
    ) -> list[dict[str, Any]]:
        functions: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request = fc.ListFunctionsRequest(limit=100, prefix=prefix, next_token=token)

            def list_page(client: Client, request: Any = request) -> Any:
                return client.list_functions_async(request)

            page = await self._body(access, "ListFunctions", list_page)
            functions.extend(page.body.get("functions") or [])
            token = page.body.get("nextToken")
            if not token:
                return functions

    # -- tags (FC's tag API; UpdateFunction carries none) ---------------------

    async def tag_function(self, access: FcAccess, arn: str, tags: Mapping[str, str]) -> list[str]:
        """Set ``tags`` on the function ``arn`` (other tags stay); FC's request ids."""
        if not tags:
            return []
        body = fc.TagResourcesInput(
            resource_id=[arn],
            resource_type=TAG_RESOURCE_TYPE,
            tag=[fc.Tag(key=k, value=v) for k, v in sorted(tags.items())],
        )
        request = fc.TagResourcesRequest(body=body)
        response = await self._call(
            access, "TagResources", lambda c: c.tag_resources_async(request)
        )
        return [rid] if (rid := _request_id(response)) else []

    async def untag_function(self, access: FcAccess, arn: str, keys: Collection[str]) -> list[str]:
        """Remove the tag ``keys`` from the function ``arn``; FC's request ids."""
        ids: list[str] = []
        ordered = sorted(keys)
        for start in range(0, len(ordered), UNTAG_KEYS_PER_CALL):
            request = fc.UntagResourcesRequest(
                resource_type=TAG_RESOURCE_TYPE,
                resource_id=[arn],
                tag_key=ordered[start : start + UNTAG_KEYS_PER_CALL],
            )

            def untag(client: Client, request: Any = request) -> Any:
                return client.untag_resources_async(request)

            response = await self._call(access, "UntagResources", untag)
            if rid := _request_id(response):
                ids.append(rid)
        return ids

    async def list_function_tags(self, access: FcAccess, arn: str) -> dict[str, str]:
        """The tags FC's tag API reports for the function ``arn``."""
        tags: dict[str, str] = {}
        token: str | None = None
        while True:
            request = fc.ListTagResourcesRequest(
                resource_type=TAG_RESOURCE_TYPE, resource_id=[arn], limit=100, next_token=token
            )

            def list_page(client: Client, request: Any = request) -> Any:
                return client.list_tag_resources_async(request)

            page = await self._body(access, "ListTagResources", list_page)
            for entry in page.body.get("TagResources") or []:
                if isinstance(entry, dict) and entry.get("ResourceId") == arn:
                    tags[str(entry.get("TagKey"))] = str(entry.get("TagValue") or "")
            token = page.body.get("NextToken")
            if not token:
                return tags

    # -- triggers and configs (what jobs need to set up disposable copies) ------

    async def list_triggers(self, access: FcAccess, name: str) -> list[dict[str, Any]]:
        request = fc.ListTriggersRequest(limit=100)
        result = await self._body(
            access, "ListTriggers", lambda c: c.list_triggers_async(name, request)
        )
        return [t for t in result.body.get("triggers") or [] if isinstance(t, dict)]

    async def create_trigger(
        self, access: FcAccess, name: str, trigger: dict[str, Any]
    ) -> FcResult:
        request = fc.CreateTriggerRequest(body=fc.CreateTriggerInput().from_map(trigger))
        return await self._body(
            access, "CreateTrigger", lambda c: c.create_trigger_async(name, request)
        )

    async def delete_trigger(self, access: FcAccess, name: str, trigger: str) -> None:
        await self._call(access, "DeleteTrigger", lambda c: c.delete_trigger_async(name, trigger))

    async def put_concurrency_config(
        self, access: FcAccess, name: str, reserved_concurrency: int
    ) -> FcResult:
        body = fc.PutConcurrencyInput(reserved_concurrency=reserved_concurrency)
        request = fc.PutConcurrencyConfigRequest(body=body)
        return await self._body(
            access,
            "PutConcurrencyConfig",
            lambda c: c.put_concurrency_config_async(name, request),
        )

    async def delete_concurrency_config(self, access: FcAccess, name: str) -> None:
        await self._call(
            access, "DeleteConcurrencyConfig", lambda c: c.delete_concurrency_config_async(name)
        )

    async def delete_provision_config(self, access: FcAccess, name: str) -> None:
        request = fc.DeleteProvisionConfigRequest()
        await self._call(
            access,
            "DeleteProvisionConfig",
            lambda c: c.delete_provision_config_async(name, request),
        )

    async def invoke(
        self,
        access: FcAccess,
        name: str,
        payload: bytes,
        qualifier: str | None = None,
        log_tail: bool = False,
    ) -> Invocation:
        headers = fc.InvokeFunctionHeaders(x_fc_log_type="Tail" if log_tail else None)
        request = fc.InvokeFunctionRequest(body=payload, qualifier=qualifier)
        response = await self._call(
            access,
            "InvokeFunction",
            lambda c: c.invoke_function_with_options_async(name, request, headers, _runtime()),
        )
        body = response.body
        data = body.read() if hasattr(body, "read") else body
        return Invocation(
            status=int(response.status_code or 200),
            body=data if isinstance(data, bytes) else (data or b""),
            headers={str(k).lower(): str(v) for k, v in (response.headers or {}).items()},
            request_id=_request_id(response),
        )

    # -- plumbing ------------------------------------------------------------

    async def _body(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[Any]]
    ) -> FcResult:
        response = await self._call(access, action, call)
        if response.body is None:
            # The SDK returns body=None instead of raising when a field has an
            # unexpected shape; silently treating that as "empty" would lose data.
            raise FcServerError(f"{action}: Function Compute's response could not be parsed")
        return FcResult(body=response.body.to_map(), request_id=_request_id(response))

    async def _call(
        self, access: FcAccess, action: str, call: Callable[[Client], Awaitable[T]]
    ) -> T:
        client = self.client(access)
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await call(client)
            except Exception as exc:
                error = translate(exc, action, access)
                if not isinstance(error, FcThrottled) or attempt == self.retry.attempts:
                    raise error from None
                wait = self._throttle_wait(error, attempt)
                log.info("%s on %s throttled; retrying in %.2fs", action, access.alias, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _throttle_wait(self, error: FcThrottled, attempt: int) -> float:
        retry_after = error.extra.get("retry_after_s")
        if isinstance(retry_after, int | float) and retry_after > 0:
            return min(float(retry_after), self.retry.max_wait_s)
        backoff = self.retry.base_wait_s * 2 ** (attempt - 1)
        return float(min(backoff * (0.5 + random.random()), self.retry.max_wait_s))


def _runtime() -> Any:
    from darabonba.runtime import RuntimeOptions

    return RuntimeOptions()


def _request_id(response: Any) -> str | None:
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
