"""Invoking a managed function through FC, recording each call for audit, and its async
tasks.

An invoke reads the function and its account in one short block, calls FC with no
database session open, then records the call (who, when, qualifier, outcome, request
ids; never the payload or the answer) in another short block — also when FC refused
it, so that the audit trail shows attempts as well as successes.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from service.accounts.repository import AccountRepository
from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.invocations import results
from service.invocations.repository import InvocationRepository
from service.invocations.schemas import (
    AsyncTaskOut,
    AsyncTaskPage,
    InvocationMode,
    InvokeIn,
    InvokeOut,
)
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import DomainError, InvalidInput, PayloadTooLarge
from service.kit.pagination import encode_cursor
from service.kit.request_id import current_request_id
from service.models import Function
from service.models.function import FunctionRef
from service.models.invocation import InvocationRecord

LATEST = "LATEST"
# FC's payload limits ("EntityTooLarge: payload size exceeds maximum allowed size"):
# 32 MB for a synchronous invocation, 128 KB for an asynchronous one.
SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 128 * 1024
# A sync answer comes after the function's run: wait for its timeout plus this (FC's
# own queueing, a cold start) before giving up.
ANSWER_MARGIN_S = 30.0


def payload_of(body: InvokeIn) -> bytes:
    """The event's bytes; 422/413 naming the field they came from."""
    given = {"payload", "payload_base64"} & body.model_fields_set
    if body.payload_base64 is None:
        given.discard("payload_base64")
    if len(given) > 1:
        raise InvalidInput(
            "give the event as `payload` (JSON) or as `payload_base64` (bytes), not both",
            field="payload_base64",
        )
    if "payload_base64" in given:
        data, field = base64.b64decode(body.payload_base64 or ""), "payload_base64"
    elif "payload" in given:
        text = json.dumps(body.payload, separators=(",", ":"), ensure_ascii=False)
        data, field = text.encode(), "payload"
    else:
        data, field = b"", "payload"
    asynchronous = body.mode is InvocationMode.ASYNC
    limit = ASYNC_PAYLOAD_LIMIT if asynchronous else SYNC_PAYLOAD_LIMIT
    if len(data) > limit:
        raise PayloadTooLarge(
            f"{field}: the event is {len(data)} bytes; FC takes at most {limit} bytes for "
            f"an {'asynchronous' if asynchronous else 'synchronous'} invocation",
            field=field,
            limit=limit,
        )
    if body.async_task_id is not None and not asynchronous:
        raise InvalidInput(
            "async_task_id: only an async invocation has a task", field="async_task_id"
        )
    return data


def answer_wait_s(function: Function, default_s: float) -> float | None:
    """How long a sync call may wait for FC's answer: the function's timeout (as fcplane
    applied it) plus a margin, when that is longer than the client's ``default_s``."""
    timeout = (function.applied_state or {}).get("timeout")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool):
        return None
    wait = float(timeout) + ANSWER_MARGIN_S
    return wait if wait > default_s else None


class InvocationService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def _target(self, ref: FunctionRef) -> tuple[FcAccess, Function]:
        """The account's access and the function, in one short read; 404 when unmanaged."""
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            return access_for(self.box, function.account), function

    async def invoke(self, ref: FunctionRef, body: InvokeIn, actor: str) -> InvokeOut:
        payload = payload_of(body)
        access, function = await self._target(ref)
        asynchronous = body.mode is InvocationMode.ASYNC
        record = InvocationRecord(
            account_id=function.account_id,
            function_name=ref.name,
            qualifier=body.qualifier or LATEST,
            mode=body.mode.value,
            actor=actor,
            request_id=current_request_id(),
        )
        started = time.monotonic()
        try:
            result = await self.gateway.invoke_function(
                access,
                ref.name,
                payload,
                qualifier=body.qualifier,
                asynchronous=asynchronous,
                log_tail=body.log_tail,
                headers=body.headers,
                async_task_id=body.async_task_id,
                read_timeout_s=None
                if asynchronous
                else answer_wait_s(function, self.gateway.read_timeout_ms / 1000),
            )
        except DomainError as error:
            record.outcome, record.status_code = "failed", error.status
            record.fc_request_id = _short(error.extra.get("fc_request_id"))
            record.duration_ms = _elapsed_ms(started)
            await self._record(record)
            raise
        record.duration_ms = _elapsed_ms(started)
        record.outcome = "function_error" if result.error_type else "ok"
        record.status_code = result.status
        record.fc_request_id = _short(result.headers.get("x-fc-request-id") or result.request_id)
        await self._record(record)
        assert record.qualifier is not None
        details: dict[str, Any] = {} if asynchronous else results.figures(result)
        return InvokeOut(
            invocation_id=record.id,
            mode=body.mode,
            qualifier=record.qualifier,
            status_code=result.status,
            fc_request_id=record.fc_request_id,
            # FC names the task (or takes the caller's name) when the function has async
            # tasks enabled (asyncInvokeConfig.asyncTask); otherwise there is no task.
            async_task_id=(result.headers.get("x-fc-async-task-id") or body.async_task_id)
            if asynchronous
            else None,
            **details,
            **results.decoded_body(result.body),
        )

    async def _record(self, record: InvocationRecord) -> None:
        async with self.db.write() as session:
            await InvocationRepository(session).add(record)

    async def invocations(
        self, ref: FunctionRef, after: int | None, limit: int
    ) -> list[InvocationRecord]:
        """The audit trail; kept (and listed) even after the function stops being managed."""
        async with self.db.read() as session:
            account = await AccountRepository(session).existing(ref.account)
            return await InvocationRepository(session).page(account.id, ref.name, after, limit)

    async def task(self, ref: FunctionRef, task_id: str, qualifier: str | None) -> AsyncTaskOut:
        access, _ = await self._target(ref)
        found = await self.gateway.get_async_task(access, ref.name, task_id, qualifier)
        return results.async_task(found.body)

    async def stop(self, ref: FunctionRef, task_id: str, qualifier: str | None) -> AsyncTaskOut:
        access, _ = await self._target(ref)
        await self.gateway.stop_async_task(access, ref.name, task_id, qualifier)
        found = await self.gateway.get_async_task(access, ref.name, task_id, qualifier)
        return results.async_task(found.body)

    async def tasks(
        self,
        ref: FunctionRef,
        limit: int,
        token: str | None,
        qualifier: str | None,
        status: str | None,
    ) -> AsyncTaskPage:
        access, _ = await self._target(ref)
        page = await self.gateway.list_async_tasks(
            access, ref.name, limit=limit, next_token=token, qualifier=qualifier, status=status
        )
        tasks = [results.async_task(t) for t in page.body.get("tasks") or [] if isinstance(t, dict)]
        token = page.body.get("nextToken")
        return AsyncTaskPage(items=tasks, next_cursor=encode_cursor(str(token)) if token else None)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _short(value: Any) -> str | None:
    """A request id as the audit column holds it (64 characters)."""
    return str(value)[:64] if value else None
