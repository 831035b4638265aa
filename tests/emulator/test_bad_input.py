"""Bad input gets an FC-style InvalidArgument with a clear reason; the emulator keeps serving."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from service.emulator.codepkg import CodeLimits
from service.emulator.server import EmbeddedEmulator, start_in_thread
from service.emulator.settings import EmulatorSettings
from tests.emulator.conftest import AK, SK, b64, create_function, make_zip, raw_call, sdk_client


def _invalid(fc: Client, name: str, **overrides: Any) -> str:
    with pytest.raises(ClientException) as exc:
        create_function(fc, name, **overrides)
    assert exc.value.status_code == 400
    assert exc.value.code == "InvalidArgument"
    # and the emulator keeps serving
    assert fc.list_functions(m.ListFunctionsRequest()).body is not None
    return str(exc.value.message)


@pytest.mark.parametrize("name", ["1abc", "-abc", "a" * 65, "a b", "a.b", "ü"])
def test_invalid_function_names(fc: Client, name: str) -> None:
    assert "functionName" in _invalid(fc, name)


@pytest.mark.parametrize("name", ["a", "_a", "A-b_9", "a" * 64])
def test_valid_function_names(fc: Client, name: str) -> None:
    assert create_function(fc, name).function_name == name


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"cpu": 0.33, "memory_size": 512}, "cpu"),
        ({"cpu": 0.0, "memory_size": 128}, "cpu"),
        ({"cpu": 16.05, "memory_size": 32768}, "cpu"),
        ({"cpu": 1.0, "memory_size": 1000}, "memorySize"),
        ({"cpu": 0.05, "memory_size": 64}, "memorySize"),
        ({"cpu": 8.0, "memory_size": 32832}, "memorySize"),
        ({"cpu": 2.0, "memory_size": 1024}, "between 1 and 4"),
        ({"cpu": 0.25, "memory_size": 2048}, "between 1 and 4"),
        ({"disk_size": 1024}, "diskSize"),
        ({"timeout": 0}, "timeout"),
        ({"runtime": "cobol"}, "runtime"),
        ({"handler": ""}, "handler"),
        ({"environment_variables": {"FC_X": "1"}}, "FC_"),
        ({"layers": ["acs:fc:cn-hangzhou:1:layers/none/versions/1"]}, "layer"),
    ],
)
def test_specs_outside_fc_rules(fc: Client, overrides: dict[str, Any], reason: str) -> None:
    assert reason in _invalid(fc, "spec", **overrides)


@pytest.mark.parametrize(
    ("cpu", "memory"), [(0.05, 128), (16.0, 65536 // 2), (1.0, 4096), (0.5, 512), (4.0, 4096)]
)
def test_specs_on_the_edges(fc: Client, cpu: float, memory: int) -> None:
    f = create_function(fc, "edge", cpu=cpu, memory_size=memory, disk_size=10240)
    assert (f.cpu, f.memory_size, f.disk_size) == (cpu, memory, 10240)


def test_update_checks_merged_spec(fc: Client) -> None:
    create_function(fc, "u", cpu=1.0, memory_size=2048)
    with pytest.raises(ClientException) as exc:
        fc.update_function("u", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(cpu=4.0)))
    assert exc.value.code == "InvalidArgument"
    assert fc.get_function("u", m.GetFunctionRequest()).body.cpu == 1.0


def _zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (b"not a zip at all", "not a valid zip"),
        (make_zip({"index.py": "x"})[:-30], "not a valid zip"),
        (_zip_with([("../evil.py", b"x")]), "escapes"),
        (_zip_with([("a/../../evil.py", b"x")]), "escapes"),
        (_zip_with([("/etc/passwd", b"x")]), "absolute"),
        (_zip_with([("a\\..\\b", b"x")]), "backslash"),
        (_zip_with([_symlink("link", "../../etc/passwd")]), "symlink"),
        (_zip_with([_symlink("link", "/etc/passwd")]), "symlink"),
        (_zip_with([("bomb.txt", b"\0" * (20 * 1024 * 1024))]), "zip bomb"),
    ],
)
def test_bad_archives(fc: Client, archive: bytes, reason: str) -> None:
    message = _invalid(fc, "zipped", code=m.InputCodeLocation(zip_file=b64(archive)))
    assert reason in message


def test_corrupt_entry_crc(fc: Client) -> None:
    data = bytearray(_zip_with([("index.py", b"print('hello world')\n" * 50)]))
    header_end = 30 + len("index.py")
    data[header_end + 5] ^= 0xFF  # flip a byte of compressed data
    message = _invalid(fc, "crc", code=m.InputCodeLocation(zip_file=b64(bytes(data))))
    assert "corrupt" in message or "not a valid zip" in message


def test_symlink_inside_code_dir_is_fine(fc: Client) -> None:
    archive = _zip_with([("index.py", b"x"), _symlink("lib/alias.py", "../index.py")])
    assert create_function(fc, "ok", code=m.InputCodeLocation(zip_file=b64(archive))).code_size


def test_invalid_base64(fc: Client) -> None:
    assert "base64" in _invalid(fc, "b64", code=m.InputCodeLocation(zip_file="***"))


def test_oss_code_is_refused_clearly(fc: Client) -> None:
    message = _invalid(
        fc, "oss", code=m.InputCodeLocation(oss_bucket_name="b", oss_object_name="o.zip")
    )
    assert "not supported" in message


@pytest.fixture
def small_limits(tmp_path: Path) -> Iterator[EmbeddedEmulator]:
    settings = EmulatorSettings(
        data_dir=tmp_path / "d",
        access_keys={AK: SK},
        code_limits=CodeLimits(max_zip_bytes=10_000, max_unzipped_bytes=50_000),
    )
    emu = start_in_thread("127.0.0.1", 0, tmp_path, None, settings=settings)
    yield emu
    emu.stop()


def test_oversized_archive(small_limits: EmbeddedEmulator) -> None:
    fc = sdk_client(small_limits)
    big = make_zip({"r.bin": bytes(range(256)) * 100 + __import__("os").urandom(20_000)})
    message = _invalid(fc, "big", code=m.InputCodeLocation(zip_file=b64(big)))
    assert "limit" in message


def test_unzips_too_large(small_limits: EmbeddedEmulator) -> None:
    fc = sdk_client(small_limits)
    archive = make_zip({f"f{i}.txt": "a" * 20_000 for i in range(5)})
    assert "unzips to more than" in _invalid(
        fc, "wide", code=m.InputCodeLocation(zip_file=b64(archive))
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"functionName": "x", "color": "red"}).encode(), "unknown field"),
        (json.dumps({"functionName": "x", "memorySize": "big"}).encode(), "memorySize"),
        (json.dumps({"functionName": "x", "layers": "arn"}).encode(), "layers"),
        (
            json.dumps({"functionName": "x", "customContainerConfig": "img"}).encode(),
            "customContainerConfig",
        ),
        (
            json.dumps({"functionName": "x", "environmentVariables": {"A": 1}}).encode(),
            "environmentVariables",
        ),
    ],
)
def test_bad_json_bodies(emulator: EmbeddedEmulator, body: bytes, reason: str) -> None:
    response = raw_call(emulator, "POST", "/2023-03-30/functions", body=body)
    assert response.status_code == 400
    err = response.json()
    assert err["Code"] == "InvalidArgument"
    assert reason in err["Message"]
    assert err["RequestId"]
    assert raw_call(emulator, "GET", "/2023-03-30/functions").status_code == 200


def test_unknown_path_and_method(emulator: EmbeddedEmulator) -> None:
    missing = raw_call(emulator, "GET", "/2023-03-30/nothing-here")
    assert (missing.status_code, missing.json()["Code"]) == (404, "PathNotSupported")
    wrong = raw_call(emulator, "PATCH", "/2023-03-30/functions")
    assert (wrong.status_code, wrong.json()["Code"]) == (405, "MethodNotAllowed")


def test_bad_query_values(emulator: EmbeddedEmulator) -> None:
    response = raw_call(emulator, "GET", "/2023-03-30/functions", query={"limit": "lots"})
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidArgument")
    assert "limit" in response.json()["Message"]
