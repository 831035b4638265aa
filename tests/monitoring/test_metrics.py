"""A function's metrics through fcplane's API: CloudMonitor's SDK against the emulator."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from darabonba.runtime import RuntimeOptions

from service.emulator.server import EmbeddedEmulator
from tests.deploys.conftest import BASE_CONFIG, deploy, make_zip, upload
from tests.fc import ACCOUNT_ID, AK, REGION

FLAKY = """
def handler(event, context):
    if event == b"fail":
        raise Exception("boom")
    return event
"""
URL = "/v1/accounts/local/functions/metered/metrics"


async def deploy_flaky(client: httpx.AsyncClient, name: str = "metered") -> None:
    sha = await upload(client, make_zip(FLAKY))
    registered = await client.post("/v1/accounts/local/functions", json={"name": name})
    assert registered.status_code == 201, registered.text
    deployed = await deploy(client, name, BASE_CONFIG, None, code_sha256=sha)
    assert deployed.status_code == 201, deployed.text


def invoke(fc: Client, name: str, payload: bytes) -> None:
    fc.invoke_function_with_options(
        name,
        fc_models.InvokeFunctionRequest(body=payload),
        fc_models.InvokeFunctionHeaders(),
        RuntimeOptions(),
    )


@pytest.fixture
async def metered(client: httpx.AsyncClient, fc_account: str, fc: Client) -> Client:
    """A managed function invoked four times, once failing; another function once."""
    await deploy_flaky(client)
    for payload in (b"1", b"2", b"fail", b"3"):
        invoke(fc, "metered", payload)
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="bystander",
                runtime="python3.10",
                handler="index.handler",
                code=fc_models.InputCodeLocation(zip_file=_b64(make_zip(FLAKY))),
            )
        )
    )
    invoke(fc, "bystander", b"x")
    return fc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def values(body: dict[str, Any], series: str) -> list[float | None]:
    return [v for _, v in body["metrics"][series]["points"]]


async def test_counts_match_the_invocations(client: httpx.AsyncClient, metered: Client) -> None:
    response = await client.get(URL)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "emulator"
    assert body["period"] == 60
    assert set(body["metrics"]) == {
        "invocations",
        "errors",
        "throttles",
        "duration_avg_ms",
        "duration_p99_ms",
        "concurrent_instances",
    }
    invocations = body["metrics"]["invocations"]
    assert invocations["unit"] == "count"
    assert invocations["source"] == ["FunctionTotalInvocations"]
    assert invocations["total"] == 4  # the bystander is not counted
    assert sum(v or 0 for v in values(body, "invocations")) == 4
    assert body["metrics"]["errors"]["total"] == 1
    assert body["metrics"]["throttles"]["total"] == 0
    # One point per minute over the default hour, on one time axis for every series.
    stamps = [t for t, _ in invocations["points"]]
    assert len(stamps) in (60, 61)
    assert all(b - a == 60_000 for a, b in itertools.pairwise(stamps))
    assert all(t % 60_000 == 0 for t in stamps)
    for name in body["metrics"]:
        assert [t for t, _ in body["metrics"][name]["points"]] == stamps
    # Durations: a figure where something ran, null where nothing did.
    durations = [v for v in values(body, "duration_avg_ms") if v is not None]
    assert durations
    assert all(v > 0 for v in durations)
    assert None in values(body, "duration_avg_ms")
    assert body["metrics"]["duration_p99_ms"]["total"] >= max(durations)  # p99 >= mean
    assert body["metrics"]["concurrent_instances"]["total"] >= 1


async def test_per_second_and_per_qualifier(client: httpx.AsyncClient, metered: Client) -> None:
    now = datetime.now(UTC)
    params: dict[str, str | int] = {"from": (now - timedelta(minutes=5)).isoformat(), "period": 1}
    per_second = (await client.get(URL, params=params)).json()
    assert per_second["period"] == 1
    assert per_second["metrics"]["invocations"]["total"] == 4
    assert len(per_second["metrics"]["invocations"]["points"]) >= 300
    latest = (await client.get(URL, params={"qualifier": "LATEST"})).json()
    assert latest["qualifier"] == "LATEST"
    assert latest["metrics"]["invocations"]["source"] == ["FunctionQualifierTotalInvocations"]
    assert latest["metrics"]["invocations"]["total"] == 4
    other = (await client.get(URL, params={"qualifier": "prod"})).json()
    assert other["metrics"]["invocations"]["total"] == 0
    assert other["metrics"]["duration_avg_ms"]["total"] is None
    # A range before the invocations has none of them.
    before = {"to": (now - timedelta(minutes=30)).isoformat()}
    assert (await client.get(URL, params=before)).json()["metrics"]["invocations"]["total"] == 0


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.svgs = 0
        self.points: dict[str, list[float]] = {}
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "circle" and found.get("class") == "point":
            series = found.get("data-series") or ""
            self.points.setdefault(series, []).append(float(found.get("data-y") or 0))


async def test_the_page_draws_the_same_figures(client: httpx.AsyncClient, metered: Client) -> None:
    response = await client.get(f"{URL}.html", params={"period": 60})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = _Page()
    page.feed(response.text)
    assert page.svgs == 3
    assert "script" not in page.tags
    assert sum(page.points["invocations"]) == 4
    assert sum(page.points["errors"]) == 1
    assert page.points["avg ms"]
    assert "metered" in response.text
    assert "FunctionTotalInvocations" in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": 7}, "period"),
        ({"period": 1}, "period"),  # an hour per second: 3600 points, more than 1440
        ({"from": "2030-01-01T00:00:00Z", "to": "2029-01-01T00:00:00Z"}, "from"),
        ({"from": "2020-01-01T00:00:00Z"}, "from"),  # older than CloudMonitor keeps
        ({"to": "0001-01-01T00:00:00Z"}, "to"),  # its default `from` would be before year 1
    ],
)
async def test_bad_ranges_are_422_naming_the_field(
    client: httpx.AsyncClient, fc_account: str, params: dict[str, Any], field: str
) -> None:
    await deploy_flaky(client)
    response = await client.get(URL, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "x"}, "period"),
        ({"period": 0}, "period"),
        ({"from": "yesterday"}, "from"),
        ({"qualifier": "a/b"}, "qualifier"),
    ],
)
async def test_malformed_parameters_are_422(
    client: httpx.AsyncClient, fc_account: str, params: dict[str, Any], field: str
) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_unknown_parameter_and_unmanaged_function(
    client: httpx.AsyncClient, fc_account: str
) -> None:
    unknown = await client.get(URL, params={"perod": 60})
    assert unknown.status_code in (400, 422), unknown.text
    missing = await client.get("/v1/accounts/local/functions/nobody/metrics")
    assert missing.status_code == 404, missing.text


async def test_refused_credentials_are_a_502(
    client: httpx.AsyncClient, emulator: EmbeddedEmulator, fc: Client
) -> None:
    account = {
        "alias": "wrongkey",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "endpoint": emulator.url,
        "access_key_id": AK,
        "access_key_secret": "not-the-secret",
    }
    assert (await client.post("/v1/accounts", json=account)).status_code == 201
    registered = await client.post("/v1/accounts/wrongkey/functions", json={"name": "ghost"})
    assert registered.status_code == 201, registered.text
    response = await client.get("/v1/accounts/wrongkey/functions/ghost/metrics")
    assert response.status_code == 502, response.text
    assert "not-the-secret" not in response.text


async def test_cloud_accounts_take_cloudmonitor_periods_only(client: httpx.AsyncClient) -> None:
    account = {
        "alias": "cloud",
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "endpoint": f"https://{ACCOUNT_ID}.{REGION}.fc.aliyuncs.com",
        "access_key_id": AK,
        "access_key_secret": "unused-secret-0123456789",
    }
    assert (await client.post("/v1/accounts", json=account)).status_code == 201
    registered = await client.post("/v1/accounts/cloud/functions", json={"name": "remote"})
    assert registered.status_code == 201, registered.text
    start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    params: dict[str, str | int] = {"period": 10, "from": start}
    response = await client.get("/v1/accounts/cloud/functions/remote/metrics", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "period"
    assert "60, 300, 900, 3600" in response.json()["detail"]
