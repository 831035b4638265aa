"""The emulator's SLS GetLogs, driven by the official log SDK (aliyun-log-python-sdk).

The project/logstore exist while a function's logConfig names them; their
items are that function's invocation logs, one per line, under the topic
``FCLogs:<function>``.
"""

from __future__ import annotations

import time

import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from aliyun.log import GetLogsRequest, GetLogsResponse, LogClient, LogException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import AK, SK, code_of, create_function, invoke

PROJECT, LOGSTORE = "fcplane-test", "functions"
LOGGING_PY = """
def handler(event, context):
    print("plain line " + event.decode())
    context.getLogger().info("structured alpha")
    return "ok"
"""


def log_client(emu: EmbeddedEmulator, secret: str = SK, key_id: str = AK) -> LogClient:
    client = LogClient(emu.url, key_id, secret)
    # The SDK treats an endpoint with a port as a host name and would send
    # `{project}.127.0.0.1` to DNS; by IP it puts the project in Host only, as
    # fcplane's gateway makes it do (service/logs/gateway.py).
    client._isRowIp = True  # type: ignore[attr-defined]
    return client


def get_logs(client: LogClient, project: str = PROJECT, **kwargs: object) -> GetLogsResponse:
    now = int(time.time())
    return client.get_logs(
        GetLogsRequest(project, kwargs.pop("logstore", LOGSTORE), now - 300, now + 5, **kwargs)  # type: ignore[arg-type]
    )


@pytest.fixture
def logged(fc: Client) -> str:
    """A function logging to PROJECT/LOGSTORE, invoked once with payload "one"; its request id."""
    create_function(
        fc,
        "logs-fn",
        code=code_of(LOGGING_PY),
        log_config=fc_models.LogConfig(project=PROJECT, logstore=LOGSTORE),
    )
    create_function(fc, "quiet-fn")  # no logConfig: none of its lines are in any logstore
    invoke(fc, "quiet-fn", b"never-in-sls")
    request_id: str = invoke(fc, "logs-fn", b"one").headers["x-fc-request-id"]
    return request_id


def messages(response: GetLogsResponse) -> list[str]:
    return [log.get_contents()["message"] for log in response.get_logs()]


def test_get_logs_answers_the_function_s_lines_signed_as_sls_signs(
    emulator: EmbeddedEmulator, logged: str
) -> None:
    response = get_logs(log_client(emulator))
    assert response.is_completed()
    lines = messages(response)
    assert lines[0] == f"FC Invoke Start RequestId: {logged}"
    assert "plain line one" in lines
    assert any(line.endswith("[INFO] structured alpha") for line in lines)
    assert not any("never-in-sls" in line for line in lines)
    first = response.get_logs()[0]
    assert first.get_contents()["__topic__"] == "FCLogs:logs-fn"
    assert first.get_contents()["requestId"] == logged
    assert first.get_contents()["instanceID"].startswith("c-")
    assert abs(int(first.get_time()) - time.time()) < 300


def test_query_topic_reverse_and_paging(
    emulator: EmbeddedEmulator, fc: Client, logged: str
) -> None:
    second = invoke(fc, "logs-fn", b"two").headers["x-fc-request-id"]
    client = log_client(emulator)
    assert messages(get_logs(client, query="alpha")) == [
        line for line in messages(get_logs(client)) if "alpha" in line
    ]
    assert len(messages(get_logs(client, query="alpha"))) == 2
    assert messages(get_logs(client, query='"plain line" and two')) == ["plain line two"]
    by_id = get_logs(client, query=f"requestId: {second}")
    assert {log.get_contents()["requestId"] for log in by_id.get_logs()} == {second}
    assert messages(get_logs(client, query="struct*", line=1, reverse=True)) == [
        messages(get_logs(client, query="alpha"))[-1]
    ]
    assert messages(get_logs(client, topic="FCLogs:other")) == []
    everything = messages(get_logs(client))
    assert messages(get_logs(client, line=2, offset=1)) == everything[1:3]


def test_get_logs_v1_lists_with_progress_headers(emulator: EmbeddedEmulator, logged: str) -> None:
    client = log_client(emulator)
    client._get_logs_v2_enabled = False  # type: ignore[attr-defined]
    response = get_logs(client, query="alpha")
    assert response.is_completed()
    assert response.get_count() == 1
    assert response.get_logs()[0].get_contents()["requestId"] == logged


@pytest.mark.parametrize(
    ("client_key", "code"),
    [((AK, "wrong-secret"), "SignatureNotMatch"), (("nobody", SK), "Unauthorized")],
)
def test_bad_keys_are_refused_as_sls_refuses_them(
    emulator: EmbeddedEmulator, logged: str, client_key: tuple[str, str], code: str
) -> None:
    key_id, secret = client_key
    with pytest.raises(LogException) as refused:
        get_logs(log_client(emulator, secret=secret, key_id=key_id))
    assert refused.value.get_error_code() == code
    assert refused.value.get_resp_status() == 401


@pytest.mark.parametrize(
    ("where", "code"),
    [({"project": "nope"}, "ProjectNotExist"), ({"logstore": "nope"}, "LogStoreNotExist")],
)
def test_unknown_project_or_logstore(
    emulator: EmbeddedEmulator, logged: str, where: dict[str, str], code: str
) -> None:
    with pytest.raises(LogException) as refused:
        get_logs(log_client(emulator), **where)
    assert refused.value.get_error_code() == code
    assert refused.value.get_resp_status() == 404


@pytest.mark.parametrize("query", ["alpha or beta", "not alpha", "* | select count(*)"])
def test_unsupported_search_syntax_is_refused_not_answered_wrongly(
    emulator: EmbeddedEmulator, logged: str, query: str
) -> None:
    with pytest.raises(LogException) as refused:
        get_logs(log_client(emulator), query=query)
    assert refused.value.get_error_code() == "ParameterInvalid"
    assert refused.value.get_resp_status() == 400
