"""Versions freeze config and code; aliases point at versions with weighted traffic."""

from __future__ import annotations

import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.emulator.conftest import ECHO_PY, b64, create_function, make_zip


def _publish(fc: Client, name: str, description: str = "") -> str:
    body = fc.publish_function_version(
        name,
        m.PublishFunctionVersionRequest(body=m.PublishVersionInput(description=description)),
    ).body
    assert body.created_time
    assert body.last_modified_time
    return str(body.version_id)


def _update(fc: Client, name: str, **fields: object) -> None:
    fc.update_function(name, m.UpdateFunctionRequest(body=m.UpdateFunctionInput(**fields)))


def test_version_freezes_config_and_code(fc: Client) -> None:
    first = create_function(fc, "v", timeout=5)
    v1 = _publish(fc, "v", "first")
    assert v1 == "1"
    new_zip = make_zip({"index.py": ECHO_PY + "# 2"})
    _update(fc, "v", timeout=9, code=m.InputCodeLocation(zip_file=b64(new_zip)))
    frozen = fc.get_function("v", m.GetFunctionRequest(qualifier="1")).body
    latest = fc.get_function("v", m.GetFunctionRequest(qualifier="LATEST")).body
    assert frozen.timeout == 5
    assert frozen.code_checksum == first.code_checksum
    assert latest.timeout == 9
    assert latest.code_checksum != first.code_checksum
    frozen_code = fc.get_function_code("v", m.GetFunctionCodeRequest(qualifier="1")).body
    assert frozen_code.checksum == first.code_checksum


def test_list_and_delete_versions(fc: Client) -> None:
    create_function(fc, "lv")
    ids = [_publish(fc, "lv", f"d{i}") for i in range(3)]
    assert ids == ["1", "2", "3"]
    listed = fc.list_function_versions("lv", m.ListFunctionVersionsRequest()).body
    assert [v.version_id for v in listed.versions] == ["3", "2", "1"]
    assert listed.versions[0].description == "d2"
    assert listed.direction == "BACKWARD"
    page = fc.list_function_versions(
        "lv", m.ListFunctionVersionsRequest(direction="FORWARD", limit=2)
    ).body
    assert [v.version_id for v in page.versions] == ["1", "2"]
    assert page.next_token == "3"
    assert fc.delete_function_version("lv", "2").status_code == 204
    listed = fc.list_function_versions("lv", m.ListFunctionVersionsRequest()).body
    assert [v.version_id for v in listed.versions] == ["3", "1"]
    assert _publish(fc, "lv") == "4"  # ids are never reused
    with pytest.raises(ClientException) as exc:
        fc.delete_function_version("lv", "2")
    assert (exc.value.status_code, exc.value.code) == (404, "VersionNotFound")


def test_version_of_missing_function(fc: Client) -> None:
    with pytest.raises(ClientException) as exc:
        _publish(fc, "ghost")
    assert exc.value.code == "FunctionNotFound"
    create_function(fc, "f")
    with pytest.raises(ClientException) as exc:
        fc.get_function("f", m.GetFunctionRequest(qualifier="7"))
    assert exc.value.code == "VersionNotFound"


def _alias(
    fc: Client, fn: str, name: str, version: str, weights: dict[str, float] | None = None
) -> m.Alias:
    return fc.create_alias(
        fn,
        m.CreateAliasRequest(
            body=m.CreateAliasInput(
                alias_name=name,
                version_id=version,
                description="d",
                additional_version_weight=weights,
            )
        ),
    ).body


def test_alias_crud(fc: Client) -> None:
    create_function(fc, "al")
    _publish(fc, "al")
    _update(fc, "al", timeout=7)
    _publish(fc, "al")
    created = _alias(fc, "al", "prod", "1", {"2": 0.25})
    assert created.alias_name == "prod"
    assert created.version_id == "1"
    assert created.additional_version_weight == {"2": 0.25}
    got = fc.get_alias("al", "prod").body
    assert got.to_map() == created.to_map()
    assert fc.get_function("al", m.GetFunctionRequest(qualifier="prod")).body.timeout == 3
    updated = fc.update_alias(
        "al",
        "prod",
        m.UpdateAliasRequest(body=m.UpdateAliasInput(version_id="2", additional_version_weight={})),
    ).body
    assert updated.version_id == "2"
    assert updated.additional_version_weight == {}
    assert updated.last_modified_time > created.last_modified_time
    assert fc.get_function("al", m.GetFunctionRequest(qualifier="prod")).body.timeout == 7
    _alias(fc, "al", "staging", "2")
    listed = fc.list_aliases("al", m.ListAliasesRequest()).body
    assert [a.alias_name for a in listed.aliases] == ["prod", "staging"]
    assert fc.delete_alias("al", "staging").status_code == 204
    with pytest.raises(ClientException) as exc:
        fc.get_alias("al", "staging")
    assert (exc.value.status_code, exc.value.code) == (404, "AliasNotFound")


def test_alias_errors(fc: Client) -> None:
    create_function(fc, "ae")
    _publish(fc, "ae")
    with pytest.raises(ClientException) as exc:
        _alias(fc, "ae", "x", "9")
    assert exc.value.code == "VersionNotFound"
    with pytest.raises(ClientException) as exc:
        _alias(fc, "ae", "x", "1", {"1": 0.5})
    assert exc.value.code == "InvalidArgument"
    _update(fc, "ae", timeout=4)
    _publish(fc, "ae")
    with pytest.raises(ClientException) as exc:
        _alias(fc, "ae", "x", "1", {"2": 1.5})
    assert exc.value.code == "InvalidArgument"
    _alias(fc, "ae", "x", "1")
    with pytest.raises(ClientException) as exc:
        _alias(fc, "ae", "x", "1")
    assert (exc.value.status_code, exc.value.code) == (409, "AliasAlreadyExists")
    with pytest.raises(ClientException) as exc:
        fc.delete_function_version("ae", "1")
    assert exc.value.code == "InvalidArgument"
    assert "alias" in exc.value.message
