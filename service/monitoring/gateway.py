"""CloudMonitor through its official SDK (alibabacloud-cms20190101): DescribeMetricList.

FC 3.0 publishes its function metrics to CloudMonitor under the namespace ``acs_fc``
(dimensions ``region``, ``serviceName`` — empty for FC 3.0 functions —,
``functionName`` and, for the ``FunctionQualifier*`` metrics, ``qualifier``).
The account's endpoint decides where the call goes: ``metrics.{region}.aliyuncs.com``
for Alibaba Cloud, the emulator itself otherwise (``FcAccess.service_endpoint``).

The SDK's ``*_async`` methods are used, so no thread is held while CloudMonitor
answers; the caller holds no database session either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alibabacloud_cms20190101 import models as cms_models
from alibabacloud_cms20190101.client import Client
from darabonba.runtime import RuntimeOptions

from service.cloud.access import FcAccess
from service.cloud.client import translate
from service.cloud.errors import FcServerError
from service.cloud.sdk_clients import SdkClients
from service.kit.errors import DomainError

NAMESPACE = "acs_fc"
PAGE_LENGTH = 1440
MAX_PAGES = 10  # a query asks for at most 1440 points; more pages would be a loop


class CloudMonitorFailed(DomainError):
    status, code, title = 502, "cloudmonitor_error", "CloudMonitor failed"


@dataclass(frozen=True)
class MetricQuery:
    """One DescribeMetricList question: a metric of one function over (start, end]."""

    metric: str
    function: str
    qualifier: str | None
    start_ms: int
    end_ms: int
    period: int


class CloudMonitorGateway:
    """CMS clients per account (cached by their credentials) and DescribeMetricList."""

    def __init__(self, connect_timeout_ms: int = 5_000, read_timeout_ms: int = 20_000) -> None:
        self._clients = SdkClients(
            Client,
            lambda access: access.service_endpoint("metrics"),
            connect_timeout_ms=connect_timeout_ms,
            read_timeout_ms=read_timeout_ms,
        )

    def client(self, access: FcAccess) -> Client:
        return self._clients.get(access)

    async def datapoints(self, access: FcAccess, query: MetricQuery) -> list[dict[str, Any]]:
        """Every datapoint CloudMonitor has for ``query``, following NextToken."""
        dimensions = {"region": access.region, "serviceName": "", "functionName": query.function}
        if query.qualifier is not None:
            dimensions["qualifier"] = query.qualifier
        request = cms_models.DescribeMetricListRequest(
            namespace=NAMESPACE,
            metric_name=query.metric,
            dimensions=json.dumps(dimensions),
            period=str(query.period),
            start_time=str(query.start_ms),
            end_time=str(query.end_ms),
            length=str(PAGE_LENGTH),
        )
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            body = await self._call(access, request)
            found.extend(_parse_datapoints(body.datapoints, query.metric))
            if not body.next_token:
                return found
            request.next_token = body.next_token
        return found

    async def _call(
        self, access: FcAccess, request: cms_models.DescribeMetricListRequest
    ) -> cms_models.DescribeMetricListResponseBody:
        action = f"DescribeMetricList {request.metric_name}"
        try:
            response = await self.client(access).describe_metric_list_with_options_async(
                request, RuntimeOptions()
            )
        except Exception as exc:
            raise translate(exc, action, access) from None
        body = response.body
        if body is None:
            raise FcServerError(f"{action}: CloudMonitor's response could not be parsed")
        # CloudMonitor may answer HTTP 200 with Success=false and its own code.
        if body.success is False or (body.code not in (None, "200")):
            raise CloudMonitorFailed(
                f"{action}: {body.code}: {body.message or 'no message'}",
                cms_code=body.code,
                cms_request_id=body.request_id,
            )
        return body


def _parse_datapoints(raw: Any, metric: str) -> list[dict[str, Any]]:
    """``Datapoints`` is a JSON string holding a list of objects."""
    if raw in (None, ""):
        return []
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise FcServerError(f"{metric}: CloudMonitor's Datapoints are not JSON") from None
    if not isinstance(parsed, list):
        raise FcServerError(f"{metric}: CloudMonitor's Datapoints are not a list")
    return [p for p in parsed if isinstance(p, dict)]
