"""Hostile and oversized input on the new endpoints: every refusal is a clear 4xx
problem+json with a `code` and a detail, and carries no secret and no stack trace."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.attacks.conftest import assert_clean, assert_problem, secrets_of
from tests.chatops import support
from tests.invocations.test_invoke import deploy_echo

FN = "/v1/accounts/local/functions"
MB = 1024 * 1024


@pytest.fixture
async def echo(client: httpx.AsyncClient, fc_account: str) -> str:
    await deploy_echo(client, "echo")
    return "echo"


@pytest.fixture
async def chats(client: httpx.AsyncClient) -> None:
    """One integration per platform: Slack `ops`, DingTalk `ding`, Feishu `lark`."""
    await support.integration(client, name="ops", platform="slack", secret=support.SLACK_SECRET)
    await support.integration(
        client, name="ding", platform="dingtalk", secret=support.DINGTALK_SECRET
    )
    await support.integration(
        client,
        name="lark",
        platform="feishu",
        secret=support.FEISHU_KEY,
        verification_token=support.FEISHU_TOKEN,
    )


# -- invoke -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload_base64": "!!not base64!!"}, "payload_base64"),
        ({"payload_base64": "YWJj"[:3]}, "payload_base64"),  # unpadded
        ({"headers": {"x-evil": "a\r\nX-Injected: 1"}}, "headers"),
        ({"headers": {"x-evil\r\nX-Injected": "1"}}, "headers"),
        ({"headers": {"Host": "169.254.169.254"}}, "headers"),
        ({"headers": {"x-fc-invocation-type": "Async"}}, "headers"),
        ({"headers": {f"x-h{i}": "v" for i in range(33)}}, "headers"),
        ({"headers": {"x-long": "v" * 5000}}, "headers"),
        ({"qualifier": "../../LATEST"}, "qualifier"),
        ({"qualifier": "LATEST' OR 1=1 --"}, "qualifier"),
        ({"mode": "sync; DROP TABLE jobs"}, "mode"),
        ({"async_task_id": "../x", "mode": "async"}, "async_task_id"),
        ({"payload": 1, "payload_base64": "YQ=="}, "payload_base64"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_hostile_invoke_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, echo: str, admin_token: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{FN}/{echo}/invoke", json=body)
    problem = assert_problem(response, 422, secrets_of(admin_token))
    named = {e.get("field") for e in problem.get("errors", [])} | {problem.get("field")}
    assert any(n and field in n for n in named), problem
    assert "X-Injected" not in json.dumps(dict(response.headers))


async def test_invoke_bodies_over_the_limit_are_413(
    client: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    huge = json.dumps({"payload": "x" * (2 * MB)}).encode()
    response = await client.post(
        f"{FN}/{echo}/invoke", content=huge, headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 413, secrets)["code"] == "payload_too_large"
    # Same, with a lying Content-Length and chunked streaming.

    async def chunks() -> Any:
        for _ in range(3):
            yield b"{" + b" " * MB

    streamed = await client.post(
        f"{FN}/{echo}/invoke", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, secrets)
    # An async event over FC's 128 KB: 413 naming payload_base64 (within the body limit).
    event = base64.b64encode(b"y" * (200 * 1024)).decode()
    over = await client.post(f"{FN}/{echo}/invoke", json={"mode": "async", "payload_base64": event})
    assert assert_problem(over, 413, secrets)["field"] == "payload_base64"
    # Nothing was audited for a refused body.
    audited = await client.get(f"{FN}/{echo}/invocations")
    assert audited.json()["items"] == []


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", (400, 422)),
        (b"payload=1", "application/x-www-form-urlencoded", (415, 422)),
        (b"\xff\xfe\x00garbage", "application/json", (400, 422)),
        (b"[]", "application/json", (422,)),
        (b'{"payload": 1}', "text/plain", (415, 422)),
    ],
)
async def test_non_json_and_wrong_content_types_are_4xx(
    client: httpx.AsyncClient,
    echo: str,
    admin_token: str,
    content: bytes,
    content_type: str,
    status: tuple[int, ...],
) -> None:
    response = await client.post(
        f"{FN}/{echo}/invoke", content=content, headers={"content-type": content_type}
    )
    assert_problem(response, status, secrets_of(admin_token))


async def test_unicode_payload_and_names_round_trip_or_are_refused(
    client: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    payload = {"ключ": "值 🚀 \u202e evil", "nul": "a\u0000b"}
    response = await client.post(f"{FN}/{echo}/invoke", json={"payload": payload})
    assert response.status_code == 200, response.text
    assert response.json()["response"]["echo"] == payload
    for name in ("ünïcode", "a%2F..%2F..%2Fetc", "..", "%2e%2e"):
        refused = await client.post(f"{FN}/{name}/invoke", json={})
        assert_problem(refused, (404, 422), secrets_of(admin_token))


# -- logs, metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"query": "' OR 1=1 --"},
        {"query": "*; DROP TABLE invocations; --"},
        {"query": "x" * 10_000},
        {"request_id": "../../etc/passwd"},
        {"request_id": "a' OR '1'='1"},
        {"from": "'; DELETE FROM tokens; --"},
        {"from": "9" * 60},
        {"to": "1970-01-01T00:00:00Z", "from": "2100-01-01T00:00:00Z"},
        {"limit": "-1"},
        {"limit": "99999999999999999999999"},
    ],
)
async def test_hostile_log_queries_are_4xx(
    client: httpx.AsyncClient, echo: str, admin_token: str, params: dict[str, str]
) -> None:
    response = await client.get(f"{FN}/{echo}/logs", params=params)
    # 409: no logConfig is also a clean refusal (the query was parsed first or not at all).
    assert_problem(response, (409, 422), secrets_of(admin_token))


async def test_hostile_metrics_queries_are_4xx(
    client: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    for path in ("metrics", "metrics.html"):
        for params in (
            {"from": "not a time"},
            {"from": "9999-12-31T23:59:59Z", "to": "0001-01-01T00:00:00Z"},
            {"period": "-60"},
            {"period": "1e308"},
            {"qualifier": "' OR 1=1"},
        ):
            response = await client.get(f"{FN}/{echo}/{path}", params=params)
            assert_problem(response, 422, secrets_of(admin_token))


async def test_huge_query_strings_are_4xx(
    client: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    # Near httpx's own URL limit (64 KB): the longest a client here can send.
    junk = "&".join(f"k{i}={'v' * 100}" for i in range(500))
    for path in (f"{FN}/{echo}/logs?query={'q' * 60_000}", f"{FN}/{echo}/metrics?{junk}"):
        response = await client.get(path)
        if response.status_code == 200:  # unknown parameters may be ignored
            assert_clean(response, secrets_of(admin_token))
            continue
        assert_problem(response, (409, 414, 422, 431), secrets_of(admin_token))


# -- X-Request-ID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["r" * 100_000, "<script>alert(1)</script>", "../../etc/passwd", "ид-запроса", " lead"],
)
async def test_hostile_request_ids_are_replaced_not_echoed(
    client: httpx.AsyncClient, admin_token: str, value: str
) -> None:
    response = await client.get("/v1/jobs/not-a-job", headers={b"X-Request-ID": value.encode()})
    problem = assert_problem(response, (404, 422), secrets_of(admin_token))
    echoed = response.headers["x-request-id"]
    assert echoed != value
    assert 0 < len(echoed) <= 64
    assert value not in response.text
    assert problem["instance"].endswith(echoed)


# -- jobs: artifacts, events, signed report links ---------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..",
        ".env",
        "fcplane.db",
        "..%5c..%5cwin.ini",
        "a%00.csv",
        "x" * 300,
    ],
)
async def test_artifact_path_traversal_is_refused(
    client: httpx.AsyncClient, admin_token: str, name: str
) -> None:
    job = str(uuid.uuid4())
    response = await client.get(f"/v1/jobs/{job}/artifacts/{name}")
    assert_problem(response, (404, 422), secrets_of(admin_token))
    assert "root:" not in response.text


@pytest.mark.parametrize(
    "query",
    [
        "expires=99999999999999999999999999&signature=" + "0" * 64,
        "expires=-1&signature=abc",
        "expires=1&signature=" + "0" * 64,  # expired long ago
        "expires=abc&signature=abc",
        "expires=4102444800&signature=" + "z" * 128,
        "expires=4102444800&signature=" + "0" * 129,
        "expires=4102444800&signature=%00%0d%0aSet-Cookie:x",
        "expires=4102444800",
        "signature=" + "0" * 64,
    ],
)
async def test_tampered_report_links_are_refused(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, admin_token: str, query: str
) -> None:
    job = str(uuid.uuid4())
    for path in (f"/v1/jobs/{job}/report", f"/v1/jobs/{job}/report/locust"):
        response = await anonymous.get(f"{path}?{query}")
        assert_problem(response, (403, 404, 422), secrets_of(admin_token))
        assert "set-cookie" not in response.headers


async def test_report_links_refuse_hostile_ttls_and_ids(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    job = str(uuid.uuid4())
    for ttl in (-1, 0, 10**30, "soon", None):
        response = await client.post(f"/v1/jobs/{job}/report-links", json={"ttl_seconds": ttl})
        assert_problem(response, (404, 422), secrets_of(admin_token))
    for bad in ("../../etc", "x" * 37, "'; --"):
        for path in ("events", "artifacts", "report-links"):
            method = client.post if path == "report-links" else client.get
            response = await method(f"/v1/jobs/{bad}/{path}")
            assert_problem(response, (404, 405, 422), secrets_of(admin_token))


async def test_huge_last_event_id_is_refused(client: httpx.AsyncClient, admin_token: str) -> None:
    response = await client.get(
        f"/v1/jobs/{uuid.uuid4()}/events", headers={"Last-Event-ID": "9" * 10_000}
    )
    assert_problem(response, (404, 422), secrets_of(admin_token))


# -- chat --------------------------------------------------------------------------------------


async def test_chat_bodies_of_several_megabytes_are_413(
    anonymous: httpx.AsyncClient, chats: None, admin_token: str
) -> None:
    big = b"text=" + b"a" * (5 * MB)
    for path, headers in (
        ("/v1/chat/slack/ops/commands", support.slack_headers(big)),
        ("/v1/chat/slack/ops/interactions", support.slack_headers(big)),
        ("/v1/chat/dingtalk/ding", support.dingtalk_headers()),
        ("/v1/chat/feishu/lark", {"content-type": "application/json"}),
        ("/v1/chat/slack/nobody/commands", {}),
    ):
        response = await anonymous.post(path, content=big, headers=headers)
        assert assert_problem(response, 413, secrets_of(admin_token))["code"] in {
            "payload_too_large",
            "request_too_large",
        }


async def test_unsigned_and_malformed_chat_requests_are_refused(
    anonymous: httpx.AsyncClient, chats: None, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    body = support.slack_command_body("help", "https://hooks.slack.com/x")
    stale = support.slack_headers(body, ts=int(time.time()) - 3600)
    forged = support.slack_headers(body, secret="guess")
    odd: dict[str, Any] = {**support.slack_headers(body), "x-slack-request-timestamp": b"1\xc2\xa0"}
    huge_ts = {**support.slack_headers(body), "x-slack-request-timestamp": "9" * 400}
    for headers in (stale, forged, odd, huge_ts, {"content-type": "application/json"}):
        response = await anonymous.post(
            "/v1/chat/slack/ops/commands", content=body, headers=headers
        )
        assert_problem(response, (401, 403, 422), secrets)
    # DingTalk: garbage JSON under a valid signature, and a bad signature.
    for content, headers in (
        (b"{oops", support.dingtalk_headers()),
        (b"[]", support.dingtalk_headers()),
        (
            support.dingtalk_body("help", "https://oapi.dingtalk.com/x"),
            support.dingtalk_headers("x"),
        ),
        (b"{}", {**support.dingtalk_headers(), "sign": "%%%not-base64"}),
    ):
        response = await anonymous.post("/v1/chat/dingtalk/ding", content=content, headers=headers)
        assert_problem(response, (400, 401, 403, 422), secrets)
    # Feishu: bad base64 / bad ciphertext under a valid signature.
    for encrypt in (
        "!!!",
        base64.b64encode(b"short").decode(),
        base64.b64encode(b"0" * 48).decode(),
    ):
        raw = json.dumps({"encrypt": encrypt}).encode()
        ts, nonce = str(int(time.time())), "n1"
        sig = hashlib.sha256((ts + nonce + support.FEISHU_KEY).encode() + raw).hexdigest()
        response = await anonymous.post(
            "/v1/chat/feishu/lark",
            content=raw,
            headers={
                "x-lark-request-timestamp": ts,
                "x-lark-request-nonce": nonce,
                "x-lark-signature": sig,
                "content-type": "application/json",
            },
        )
        assert_problem(response, (400, 401, 422), secrets)


async def test_replayed_dingtalk_and_feishu_requests_are_refused(
    anonymous: httpx.AsyncClient, chats: None, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    body = support.dingtalk_body("help", "https://oapi.dingtalk.com/robot/x")
    headers = support.dingtalk_headers()
    first = await anonymous.post("/v1/chat/dingtalk/ding", content=body, headers=headers)
    assert first.status_code == 200, first.text
    again = await anonymous.post("/v1/chat/dingtalk/ding", content=body, headers=headers)
    assert assert_problem(again, 401, secrets)["code"] == "chat_request_replayed"
    raw, lark = support.feishu_signed(support.feishu_message_event("help"))
    first = await anonymous.post("/v1/chat/feishu/lark", content=raw, headers=lark)
    assert first.status_code == 200, first.text
    again = await anonymous.post("/v1/chat/feishu/lark", content=raw, headers=lark)
    if again.status_code == 200:  # Feishu retries are acknowledged but must not run twice
        assert_clean(again, secrets)
    else:
        assert assert_problem(again, 401, secrets)["code"] == "chat_request_replayed"


@pytest.mark.parametrize(
    "approval", ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "'%20OR%201=1", "x" * 100, "ünï"]
)
async def test_hostile_approval_ids_are_refused(
    anonymous: httpx.AsyncClient, chats: None, admin_token: str, approval: str
) -> None:
    secrets = secrets_of(admin_token)
    page = await anonymous.get(f"/v1/chat/approvals/{approval}")
    assert page.status_code in (404, 422), page.text[:500]
    assert_clean(page, secrets)
    decided = await anonymous.post(
        f"/v1/chat/approvals/{approval}", data={"decision": "approve", "token": "x"}
    )
    assert decided.status_code in (403, 404, 422), decided.text[:500]
    assert_clean(decided, secrets)


async def test_hostile_chat_admin_input_is_refused_without_echoing_secrets(
    client: httpx.AsyncClient, chats: None, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    for body in (
        {"name": "../x", "platform": "slack", "secret": "s" * 32},
        {"name": "ok", "platform": "irc", "secret": "s" * 32},
        {"name": "ok2", "platform": "slack", "secret": "s" * (2 * MB)},
        {"name": "ops", "platform": "slack", "secret": support.SLACK_SECRET},  # duplicate
    ):
        response = await client.post("/v1/chat-integrations", json=body)
        assert_problem(response, (409, 413, 422), [*secrets, "s" * 32])
    listed = await client.get("/v1/chat-integrations")
    assert listed.status_code == 200
    assert_clean(listed, secrets)
    for params in ({"limit": "-5"}, {"cursor": "' OR 1=1 --"}, {"integration": "x" * 10_000}):
        events = await client.get("/v1/chat-events", params=params)
        if events.status_code == 200:
            assert_clean(events, secrets)
            continue
        assert_problem(events, 422, secrets)


# -- event streams and the Prometheus scrape ------------------------------------------------


async def test_refusals_to_event_stream_clients_are_problem_json(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    sse = {"Accept": "text/event-stream"}
    followed = await client.get(f"{FN}/{echo}/logs", params={"to": "now"}, headers=sse)
    assert assert_problem(followed, 422, secrets)["field"] == "to"
    unknown = await client.get(f"/v1/jobs/{uuid.uuid4()}/events", headers=sse)
    assert_problem(unknown, 404, secrets)
    for path in (f"{FN}/{echo}/logs", f"/v1/jobs/{uuid.uuid4()}/events"):
        refused = await anonymous.get(path, headers={**sse, "Authorization": "Bearer fcp_forged"})
        assert assert_problem(refused, 401, secrets)["code"] == "unauthenticated"
        assert "fcp_forged" not in refused.text


async def test_junk_paths_and_methods_mint_no_metric_series(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    marker = uuid.uuid4().hex
    for i in range(20):
        await client.get(f"/v1/{marker}/{i}")
        await client.get(f"{FN}/fn-{marker}-{i}/metrics")
        await client.request("PROPFIND", f"/v1/jobs/{marker}")
        await client.get("/v1/jobs", headers={"X-Request-ID": f"{marker}{i}"})
    scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert marker not in scrape.text
    assert "PROPFIND" not in scrape.text
    assert_clean(scrape, secrets_of(admin_token))


@pytest.mark.parametrize(
    "query",
    [
        "decision=approve&expires=4102444800&sig=" + "0" * 64,
        "decision=approve%3Cscript%3E&expires=4102444800&sig=x",
        "decision=approve&expires=99999999999999999999999&sig=x",
        "decision=approve&expires=-1&sig=x",
        "decision=approve&expires=4102444800&sig=%27%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "decision=approve&expires=4102444800&sig=" + "a" * 101,
        "decision=approve&expires=1&sig=" + "0" * 64,
    ],
)
async def test_tampered_approval_links_are_refused(
    anonymous: httpx.AsyncClient, chats: None, admin_token: str, query: str
) -> None:
    approval = str(uuid.uuid4())
    page = await anonymous.get(f"/v1/chat/approvals/{approval}?{query}")
    assert page.status_code in (401, 403, 404, 422), page.text[:500]
    assert "<script>" not in page.text
    assert_clean(page, secrets_of(admin_token))
    form = query.encode()
    confirmed = await anonymous.post(
        f"/v1/chat/approvals/{approval}",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(confirmed, (401, 403, 404, 422), secrets_of(admin_token))
    assert "<script>" not in confirmed.text
    assert_clean(confirmed, secrets_of(admin_token))


async def test_hostile_async_task_and_audit_queries_are_4xx(
    client: httpx.AsyncClient, echo: str, admin_token: str
) -> None:
    secrets = secrets_of(admin_token)
    base = f"{FN}/{echo}"
    for method, path, params in (
        ("GET", f"{base}/async-tasks/..%2F..%2Fetc%2Fpasswd", {}),
        ("GET", f"{base}/async-tasks/{'t' * 200}", {}),
        ("GET", f"{base}/async-tasks/t1", {"qualifier": "' OR 1=1 --"}),
        ("POST", f"{base}/async-tasks/%2e%2e/stop", {}),
        ("GET", f"{base}/async-tasks", {"status": "Running' OR 1=1"}),
        ("GET", f"{base}/async-tasks", {"limit": "100000"}),
        ("GET", f"{base}/invocations", {"cursor": "' OR 1=1 --"}),
        ("GET", f"{base}/invocations", {"limit": "-1"}),
    ):
        response = await client.request(method, path, params=params)
        assert_problem(response, (404, 422), secrets)
