"""FC calls that run a function: InvokeFunction (sync or async, with the log tail) and the
async tasks an async invocation leaves behind (GetAsyncTask, StopAsyncTask, ListAsyncTasks).

InvokeFunction answers raw bytes plus FC's ``x-fc-*`` headers; a function that failed
is still HTTP 200 with ``x-fc-error-type`` (the SDK does not raise), so it comes back as
an :class:`Invocation` like any other and the caller decides what it means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alibabacloud_fc20230330 import models as fc

from service.cloud.access import FcAccess
from service.cloud.client import FcClient, FcResult, Invocation, request_id_of, runtime_options

SYNC, ASYNC = "Sync", "Async"


class InvocationCalls(FcClient):
    async def invoke_function(
        self,
        access: FcAccess,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        asynchronous: bool = False,
        log_tail: bool = False,
        headers: Mapping[str, str] | None = None,
        async_task_id: str | None = None,
        read_timeout_s: float | None = None,
    ) -> Invocation:
        """One InvokeFunction; ``headers`` go to FC with the call. ``read_timeout_s``: how
        long to wait for the answer, when the client's default (a minute) is too short for
        the function's own timeout."""
        runtime = runtime_options()
        if read_timeout_s is not None:
            runtime.read_timeout = int(read_timeout_s * 1000)

        def call(client: Any) -> Any:
            # A new headers object per attempt: the SDK adds its x-fc-* headers to the
            # common_headers dict it is given, so a retry must not see the last one's.
            # Names in lower case, as the SDK writes its own: `Accept` beside the SDK's
            # `accept` would go out twice and break the signature.
            options = fc.InvokeFunctionHeaders(
                common_headers={k.lower(): v for k, v in (headers or {}).items()},
                x_fc_invocation_type=ASYNC if asynchronous else SYNC,
                x_fc_log_type="Tail" if log_tail and not asynchronous else None,
                x_fc_async_task_id=async_task_id if asynchronous else None,
            )
            request = fc.InvokeFunctionRequest(body=payload, qualifier=qualifier)
            return client.invoke_function_with_options_async(name, request, options, runtime)

        response = await self._call(access, "InvokeFunction", call)
        body = response.body
        data = body.read() if hasattr(body, "read") else body
        return Invocation(
            status=int(response.status_code or 200),
            body=data if isinstance(data, bytes) else (data or b""),
            headers={str(k).lower(): str(v) for k, v in (response.headers or {}).items()},
            request_id=request_id_of(response),
        )

    async def get_async_task(
        self, access: FcAccess, name: str, task_id: str, qualifier: str | None = None
    ) -> FcResult:
        request = fc.GetAsyncTaskRequest(qualifier=qualifier)
        return await self._body(
            access, "GetAsyncTask", lambda c: c.get_async_task_async(name, task_id, request)
        )

    async def stop_async_task(
        self, access: FcAccess, name: str, task_id: str, qualifier: str | None = None
    ) -> str | None:
        request = fc.StopAsyncTaskRequest(qualifier=qualifier)
        return await self._request_id(
            access, "StopAsyncTask", lambda c: c.stop_async_task_async(name, task_id, request)
        )

    async def list_async_tasks(
        self,
        access: FcAccess,
        name: str,
        *,
        limit: int,
        next_token: str | None = None,
        qualifier: str | None = None,
        status: str | None = None,
    ) -> FcResult:
        """One page of the function's async tasks, newest first, without their payloads."""
        request = fc.ListAsyncTasksRequest(
            limit=limit,
            next_token=next_token,
            qualifier=qualifier,
            status=status,
            sort_order_by_time="desc",
            include_payload=False,
        )
        return await self._body(
            access, "ListAsyncTasks", lambda c: c.list_async_tasks_async(name, request)
        )
