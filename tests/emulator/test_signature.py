"""ACS3-HMAC-SHA256 verification: the SDK's signatures pass, anything tampered fails with 403."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    AK,
    SK,
    create_function,
    sdk_client,
    signed_headers,
    start,
)

PATH = "/2023-03-30/functions"


def _assert_fc_403(response: httpx.Response, code: str) -> None:
    assert response.status_code == 403
    body = response.json()
    assert body["Code"] == code
    assert body["Message"]
    assert body["RequestId"]


def test_sdk_signature_accepted(emulator: EmbeddedEmulator) -> None:
    fc = sdk_client(emulator)
    assert fc.list_functions(m.ListFunctionsRequest(prefix="a b+c/d~")).body.functions == []


def test_wrong_secret(emulator: EmbeddedEmulator) -> None:
    with pytest.raises(ClientException) as exc:
        sdk_client(emulator, sk="wrong").list_functions(m.ListFunctionsRequest())
    assert (exc.value.status_code, exc.value.code) == (403, "SignatureNotMatch")


def test_unknown_access_key(emulator: EmbeddedEmulator) -> None:
    with pytest.raises(ClientException) as exc:
        sdk_client(emulator, ak="who").list_functions(m.ListFunctionsRequest())
    assert (exc.value.status_code, exc.value.code) == (403, "InvalidAccessKeyID")


def test_unsigned_request(emulator: EmbeddedEmulator) -> None:
    _assert_fc_403(httpx.get(emulator.url + PATH), "AccessDenied")


def test_tampered_query(emulator: EmbeddedEmulator) -> None:
    headers = signed_headers("GET", PATH, {"prefix": "a"}, host=emulator.endpoint)
    ok = httpx.get(f"{emulator.url}{PATH}?prefix=a", headers=headers)
    assert ok.status_code == 200
    _assert_fc_403(
        httpx.get(f"{emulator.url}{PATH}?prefix=b", headers=headers), "SignatureNotMatch"
    )
    _assert_fc_403(
        httpx.get(f"{emulator.url}{PATH}?prefix=a&limit=1", headers=headers), "SignatureNotMatch"
    )


def test_tampered_path(emulator: EmbeddedEmulator) -> None:
    fc = sdk_client(emulator)
    create_function(fc, "one")
    create_function(fc, "two")
    headers = signed_headers("GET", f"{PATH}/one", host=emulator.endpoint)
    assert httpx.get(f"{emulator.url}{PATH}/one", headers=headers).status_code == 200
    _assert_fc_403(httpx.get(f"{emulator.url}{PATH}/two", headers=headers), "SignatureNotMatch")


def test_body_hash_mismatch(emulator: EmbeddedEmulator) -> None:
    body = json.dumps({"functionName": "x"}).encode()
    headers = signed_headers("POST", PATH, body=body, host=emulator.endpoint)
    response = httpx.post(emulator.url + PATH, headers=headers, content=body + b" ")
    _assert_fc_403(response, "SignatureNotMatch")
    assert "sha256" in response.json()["Message"]


def test_tampered_signed_header(emulator: EmbeddedEmulator) -> None:
    headers = signed_headers("GET", PATH, host=emulator.endpoint)
    headers["x-acs-date"] = "2001-01-01T00:00:00Z"
    _assert_fc_403(httpx.get(emulator.url + PATH, headers=headers), "SignatureNotMatch")


def test_percent_encoded_names_route_and_verify(emulator: EmbeddedEmulator) -> None:
    fc = sdk_client(emulator)
    with pytest.raises(ClientException) as exc:
        fc.get_function("a b/c", m.GetFunctionRequest())
    assert exc.value.code == "FunctionNotFound"
    assert "a b/c" in exc.value.message
    raw = httpx.get(
        f"{emulator.url}{PATH}/{quote('a b/c', safe='')}",
        headers=signed_headers("GET", f"{PATH}/{quote('a b/c', safe='')}", host=emulator.endpoint),
    )
    assert raw.status_code == 404


def test_no_auth_mode_accepts_anything(tmp_path: Path) -> None:
    emu = start(tmp_path, no_auth=True)
    try:
        assert httpx.get(emu.url + PATH).json() == {"functions": []}
        fc = sdk_client(emu, ak="any", sk="thing")
        assert fc.list_functions(m.ListFunctionsRequest()).body.functions == []
    finally:
        emu.stop()


def test_configured_keys(tmp_path: Path) -> None:
    emu = start(tmp_path, keys={"k1": "s1", AK: SK})
    try:
        assert sdk_client(emu, "k1", "s1").list_functions(m.ListFunctionsRequest()).body
        assert sdk_client(emu).list_functions(m.ListFunctionsRequest()).body
    finally:
        emu.stop()
