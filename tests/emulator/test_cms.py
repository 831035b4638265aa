"""CloudMonitor's DescribeMetricList (namespace acs_fc), called with the official CMS SDK."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from alibabacloud_cms20190101 import models as cms_models
from alibabacloud_cms20190101.client import Client as CmsClient
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import AK, SK, code_of, create_function, invoke

FLAKY_PY = """
def handler(event, context):
    if event == b"fail":
        raise Exception("boom")
    return event
"""


def cms_client(emu: EmbeddedEmulator, sk: str = SK, algorithm: str | None = None) -> CmsClient:
    return CmsClient(
        Config(
            access_key_id=AK,
            access_key_secret=sk,
            region_id="cn-hangzhou",
            endpoint=emu.endpoint,
            protocol="http",
            signature_algorithm=algorithm,
        )
    )


def describe(
    client: CmsClient,
    metric: str,
    dimensions: dict[str, str],
    *,
    period: int = 60,
    length: str | None = None,
    next_token: str | None = None,
) -> cms_models.DescribeMetricListResponseBody:
    now_ms = int(time.time() * 1000)
    request = cms_models.DescribeMetricListRequest(
        namespace="acs_fc",
        metric_name=metric,
        dimensions=json.dumps(dimensions),
        period=str(period),
        start_time=str(now_ms - 3_600_000),
        end_time=str(now_ms + 60_000),
        length=length,
        next_token=next_token,
    )
    body = client.describe_metric_list(request).body
    assert body.success is True, body
    assert body.code == "200"
    return body


def points(body: cms_models.DescribeMetricListResponseBody) -> list[dict[str, Any]]:
    # Datapoints is a JSON string inside the JSON answer, as on CloudMonitor.
    assert isinstance(body.datapoints, str)
    parsed: list[dict[str, Any]] = json.loads(body.datapoints)
    return parsed


def total(body: cms_models.DescribeMetricListResponseBody) -> float:
    return float(sum(p["Value"] for p in points(body)))


def test_counts_follow_invocations(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "counted", code=code_of(FLAKY_PY))
    create_function(fc, "other")
    for payload in (b"a", b"b", b"fail"):
        invoke(fc, "counted", payload)
    invoke(fc, "other")
    cms = cms_client(emulator)
    dims = {"region": "cn-hangzhou", "serviceName": "", "functionName": "counted"}
    invocations = describe(cms, "FunctionTotalInvocations", dims)
    assert invocations.period == "60"
    assert total(invocations) == 3  # "other" is filtered out by the dimension
    assert all(p["functionName"] == "counted" for p in points(invocations))
    assert all(p["timestamp"] % 60_000 == 0 for p in points(invocations))
    assert total(describe(cms, "FunctionFunctionErrors", dims)) == 1
    assert total(describe(cms, "FunctionConcurrencyThrottles", dims)) == 0
    durations = points(describe(cms, "FunctionAvgDuration", dims))
    assert durations
    assert all(p["Average"] > 0 for p in durations)
    assert points(describe(cms, "FunctionOndemandActiveInstance", dims))[0]["Maximum"] >= 1
    # Per second: the same three invocations, in one-second points.
    assert total(describe(cms, "FunctionTotalInvocations", dims, period=1)) == 3


def test_throttles_and_qualifier_metrics(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "limited")
    invoke(fc, "limited")
    fc.put_concurrency_config(
        "limited",
        m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=0)),
    )
    with pytest.raises(Exception, match=r"(?i)throttl"):
        invoke(fc, "limited")
    cms = cms_client(emulator)
    dims = {"functionName": "limited"}
    assert total(describe(cms, "FunctionTotalInvocations", dims)) == 2
    assert total(describe(cms, "FunctionConcurrencyThrottles", dims)) == 1
    latest = {"functionName": "limited", "qualifier": "LATEST"}
    assert total(describe(cms, "FunctionQualifierTotalInvocations", latest)) == 2
    other = {"functionName": "limited", "qualifier": "prod"}
    assert total(describe(cms, "FunctionQualifierTotalInvocations", other)) == 0


def test_the_rpc_signature_is_verified_too(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "signed")
    invoke(fc, "signed")
    cms = cms_client(emulator, algorithm="v2")  # HMAC-SHA1 over the canonicalized query
    body = describe(cms, "FunctionTotalInvocations", {"functionName": "signed"})
    assert total(body) == 1
    with pytest.raises(ClientException) as refused:
        describe(
            cms_client(emulator, sk="wrong", algorithm="v2"),
            "FunctionTotalInvocations",
            {"functionName": "signed"},
        )
    assert refused.value.code == "SignatureDoesNotMatch"


def test_a_bad_key_is_refused(emulator: EmbeddedEmulator) -> None:
    with pytest.raises(ClientException) as refused:
        describe(
            cms_client(emulator, sk="wrong"), "FunctionTotalInvocations", {"functionName": "x"}
        )
    assert refused.value.status_code == 403
    assert refused.value.code == "SignatureNotMatch"


@pytest.mark.parametrize(
    ("metric", "dimensions", "length", "reason"),
    [
        ("FunctionTotalInvocations", {}, None, "functionName"),
        ("FunctionNoSuchThing", {"functionName": "f"}, None, "not served"),
        ("FunctionQualifierTotalInvocations", {"functionName": "f"}, None, "qualifier"),
        ("FunctionTotalInvocations", {"functionName": "f"}, "0", "Length"),
        ("FunctionTotalInvocations", {"functionName": "f", "region": "cn-x"}, None, "region"),
    ],
)
def test_bad_requests_say_why(
    emulator: EmbeddedEmulator,
    metric: str,
    dimensions: dict[str, str],
    length: str | None,
    reason: str,
) -> None:
    with pytest.raises(ClientException) as refused:
        describe(cms_client(emulator), metric, dimensions, length=length)
    assert refused.value.status_code == 400
    assert reason in str(refused.value.message)


def test_pages_through_next_token(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "paged")
    for _ in range(3):
        invoke(fc, "paged")
        time.sleep(1.05)  # three distinct one-second periods
    cms = cms_client(emulator)
    paged = {"functionName": "paged"}
    first = describe(cms, "FunctionTotalInvocations", paged, period=1, length="2")
    assert len(points(first)) == 2
    assert first.next_token
    rest = describe(
        cms,
        "FunctionTotalInvocations",
        {"functionName": "paged"},
        period=1,
        length="2",
        next_token=first.next_token,
    )
    assert total(first) + total(rest) == 3
    assert not rest.next_token
