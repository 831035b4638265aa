"""HTTP triggers: CRUD through the SDK, and requests served on the emulator's own port."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import HTTP_ECHO_PY, code_of, create_function, signed_headers


def _web_function(fc: Client, name: str) -> None:
    create_function(fc, name, code=code_of(HTTP_ECHO_PY))


def _seen(response: httpx.Response) -> dict[str, Any]:
    """What the handler reported it received (HTTP_ECHO_PY's x-echo header)."""
    seen: dict[str, Any] = json.loads(response.headers["x-echo"])
    return seen


def _create(
    fc: Client, fn: str, name: str, auth: str = "anonymous", methods: list[str] | None = None
) -> m.Trigger:
    config = {"authType": auth, "methods": methods or ["GET", "POST"]}
    return fc.create_trigger(
        fn,
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name=name, trigger_type="http", trigger_config=json.dumps(config)
            )
        ),
    ).body


def test_trigger_crud(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "web")
    created = _create(fc, "web", "http1")
    assert created.trigger_name == "http1"
    assert created.trigger_type == "http"
    assert created.qualifier == "LATEST"
    assert json.loads(created.trigger_config)["authType"] == "anonymous"
    assert created.http_trigger.url_internet == f"{emulator.url}/_trigger/web/http1"
    assert created.http_trigger.url_intranet == created.http_trigger.url_internet
    assert created.trigger_id
    got = fc.get_trigger("web", "http1").body
    assert got.to_map() == created.to_map()
    updated = fc.update_trigger(
        "web",
        "http1",
        m.UpdateTriggerRequest(
            body=m.UpdateTriggerInput(
                trigger_config=json.dumps({"authType": "function", "methods": ["GET"]}),
                description="now signed",
            )
        ),
    ).body
    assert json.loads(updated.trigger_config)["authType"] == "function"
    assert updated.description == "now signed"
    assert updated.last_modified_time > created.last_modified_time
    _create(fc, "web", "http2")
    listed = fc.list_triggers("web", m.ListTriggersRequest()).body
    assert [t.trigger_name for t in listed.triggers] == ["http1", "http2"]
    assert fc.delete_trigger("web", "http2").status_code == 204
    with pytest.raises(ClientException) as exc:
        fc.get_trigger("web", "http2")
    assert (exc.value.status_code, exc.value.code) == (404, "TriggerNotFound")


def test_trigger_errors(fc: Client) -> None:
    create_function(fc, "te")
    _create(fc, "te", "t")
    with pytest.raises(ClientException) as exc:
        _create(fc, "te", "t")
    assert (exc.value.status_code, exc.value.code) == (409, "TriggerAlreadyExists")
    with pytest.raises(ClientException) as exc:
        _create(fc, "te", "jwt", auth="jwt")
    assert exc.value.code == "InvalidArgument"
    with pytest.raises(ClientException) as exc:
        fc.delete_function("te")
    assert (exc.value.status_code, exc.value.code) == (409, "FunctionNotEmpty")
    with pytest.raises(ClientException) as exc:
        _create(fc, "ghost", "t")
    assert exc.value.code == "FunctionNotFound"


def test_anonymous_trigger_routes_to_runtime(fc: Client, emulator: EmbeddedEmulator) -> None:
    _web_function(fc, "web")
    url = _create(fc, "web", "pub").http_trigger.url_internet
    response = httpx.post(f"{url}/a%20b/c?x=1&x=2&y=", content=b"payload", headers={"X-H": "v"})
    assert response.status_code == 201
    assert response.content == b"payload"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["x-echo-path"] == "/a%20b/c"
    assert response.headers["x-fc-request-id"]
    seen = _seen(response)
    assert seen["function"] == "web"
    assert seen["method"] == "POST"
    assert seen["query"] == {"x": "1,2", "y": ""}  # repeated keys joined, as FC does
    assert seen["headers"]["x-h"] == "v"
    assert seen["domainName"] == emulator.endpoint
    assert seen["sourceIp"] == "127.0.0.1"
    assert seen["requestId"] == response.headers["x-fc-request-id"]
    binary = httpx.post(url, content=b"\x00\xff")
    assert binary.content == b"\x00\xff"  # base64 in the event and back
    root = httpx.get(url)
    assert root.status_code == 201
    assert root.headers["x-echo-path"] == "/"


def test_trigger_method_not_allowed(fc: Client) -> None:
    create_function(fc, "web")
    url = _create(fc, "web", "getonly", methods=["GET"]).http_trigger.url_internet
    response = httpx.delete(url)
    assert response.status_code == 400
    assert response.headers["x-fc-error-type"] == "FcCommonError"
    assert response.json()["Code"] == "MethodNotAllowed"


def test_function_auth_trigger(fc: Client, emulator: EmbeddedEmulator) -> None:
    _web_function(fc, "sec")
    url = _create(fc, "sec", "signed", auth="function").http_trigger.url_internet
    unsigned = httpx.get(url + "/x")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-fc-error-type"] == "FcCommonError"
    path = "/_trigger/sec/signed/x"
    headers = signed_headers("GET", path, {"q": "1"}, host=emulator.endpoint)
    ok = httpx.get(f"{emulator.url}{path}?q=1", headers=headers)
    assert ok.status_code == 201
    assert ok.headers["x-echo-path"] == "/x"
    assert _seen(ok)["query"] == {"q": "1"}
    tampered = httpx.get(f"{emulator.url}{path}?q=2", headers=headers)
    assert tampered.status_code == 403


def test_unknown_trigger(emulator: EmbeddedEmulator) -> None:
    response = httpx.get(f"{emulator.url}/_trigger/nope/nothing/")
    assert response.status_code == 404
    assert response.json()["Code"] == "TriggerNotFound"
    assert response.headers["x-fc-error-type"] == "FcCommonError"


def test_trigger_on_alias(fc: Client) -> None:
    _web_function(fc, "q")
    fc.publish_function_version("q", m.PublishFunctionVersionRequest(body=m.PublishVersionInput()))
    fc.create_alias(
        "q", m.CreateAliasRequest(body=m.CreateAliasInput(alias_name="prod", version_id="1"))
    )
    trigger = fc.create_trigger(
        "q",
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name="t",
                trigger_type="http",
                qualifier="prod",
                trigger_config=json.dumps({"authType": "anonymous", "methods": ["GET"]}),
            )
        ),
    ).body
    assert trigger.qualifier == "prod"
    response = httpx.get(trigger.http_trigger.url_internet)
    assert response.status_code == 201
    assert response.headers["x-fc-invocation-service-version"] == "1"
    seen = _seen(response)
    assert (seen["qualifier"], seen["versionId"]) == ("prod", "1")
    with pytest.raises(ClientException) as exc:
        fc.delete_alias("q", "prod")
    assert exc.value.code == "InvalidArgument"
