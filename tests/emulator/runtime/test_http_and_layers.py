"""HTTP-trigger event mapping for standard runtimes, layers in /opt, and safe unpacking."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from service.emulator.runtime.contract import FunctionSpec, HttpRequest, InvokeRequest
from service.emulator.runtime.manager import ProcessRuntime
from service.emulator.runtime.unpack import PackageError, extract_zip

SpecFactory = Callable[..., FunctionSpec]
ZipWriter = Callable[..., Path]


def _http(body: bytes = b"", method: str = "POST") -> HttpRequest:
    return HttpRequest(
        request_id="1-64f6cd87-abc",
        method=method,
        raw_path="/a%20b/c",
        query=[("p", "1"), ("p", "2"), ("q", "x y")],
        headers=[("X-Multi", "v1"), ("X-Multi", "v2"), ("User-Agent", "tester/1.0")],
        body=body,
        source_ip="10.0.0.9",
        domain_name="abc123.cn-hangzhou.fcapp.run",
    )


ECHO_EVENT = {"index.py": "def handler(event, context):\n    return event\n"}


async def test_http_event_shape(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(ECHO_EVENT, account_id="777")
    result = await runtime.invoke_http(spec, _http(b"hello"))
    # The handler returned the event (no statusCode): a 200 with it as the body.
    assert result.status == 200
    assert result.error_type is None
    event = json.loads(result.body)
    assert event["version"] == "v1"
    assert event["rawPath"] == "/a%20b/c"
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    assert event["headers"]["X-Multi"] == "v1,v2"
    assert event["queryParameters"] == {"p": "1,2", "q": "x y"}
    ctx = event["requestContext"]
    assert ctx["accountId"] == "777"
    assert ctx["requestId"] == "1-64f6cd87-abc"
    assert ctx["domainName"] == "abc123.cn-hangzhou.fcapp.run"
    assert ctx["domainPrefix"] == "abc123"
    assert ctx["http"] == {
        "method": "POST",
        "path": "/a b/c",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.9",
        "userAgent": "tester/1.0",
    }
    assert isinstance(ctx["timeEpoch"], str)
    assert ctx["time"].endswith("Z")

    binary = json.loads((await runtime.invoke_http(spec, _http(b"\xff\x00"))).body)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"


async def test_http_response_mapping(runtime: ProcessRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec(
        {
            "index.py": """
                import base64, json
                def handler(event, context):
                    kind = json.loads(event)["rawPath"]
                    if kind == "/struct":
                        return {"statusCode": 201, "headers": {"X-Out": "yes"}, "body": "made"}
                    if kind == "/binary":
                        return {"statusCode": 200, "isBase64Encoded": True,
                                "body": base64.b64encode(b"\\x89PNG").decode()}
                    if kind == "/fail":
                        raise KeyError("nope")
                    return "plain text"
            """
        }
    )

    def req(path: str) -> HttpRequest:
        return HttpRequest("r", "GET", path, [], [], b"", "127.0.0.1", "x.fcapp.run")

    made = await runtime.invoke_http(spec, req("/struct"))
    assert (made.status, made.body) == (201, b"made")
    assert ("X-Out", "yes") in made.headers
    assert (await runtime.invoke_http(spec, req("/binary"))).body == b"\x89PNG"
    plain = await runtime.invoke_http(spec, req("/plain"))
    assert (plain.status, plain.body) == (200, b"plain text")
    failed = await runtime.invoke_http(spec, req("/fail"))
    assert failed.status == 502
    assert failed.error_type == "UnhandledInvocationError"
    assert json.loads(failed.body)["errorType"] == "KeyError"


async def test_layers_are_merged_first_listed_wins(
    runtime: ProcessRuntime, make_spec: SpecFactory, zip_writer: ZipWriter, tmp_path: Path
) -> None:
    first = zip_writer(
        tmp_path / "layer1.zip",
        {
            "python/shared.py": "WHO = 'first'\n",
            "bin/tool": "#!/bin/sh\necho tool-from-layer\n",
            "lib/libdemo.txt": "lib",
        },
        modes={"bin/tool": 0o755},
    )
    second = zip_writer(
        tmp_path / "layer2.zip",
        {"python/shared.py": "WHO = 'second'\n", "python/only_second.py": "X = 2\n"},
    )
    spec = make_spec(
        {
            "index.py": """
                import os, subprocess, shared, only_second
                def handler(event, context):
                    tool = subprocess.run(["tool"], capture_output=True, text=True).stdout.strip()
                    return {"who": shared.WHO, "x": only_second.X, "tool": tool,
                            "ld": os.environ["LD_LIBRARY_PATH"], "path": os.environ["PATH"],
                            "data": open(os.environ["LAYER_DATA"]).read(),
                            "flags": os.environ["FLAGS"]}
            """
        },
        layer_zips=(first, second),
        environment={"LAYER_DATA": "/opt/lib/libdemo.txt", "FLAGS": "--root=/code/static"},
    )
    body = json.loads((await runtime.invoke(spec, InvokeRequest("l-1", b""))).body)
    assert (body["who"], body["x"], body["tool"]) == ("first", 2, "tool-from-layer")
    assert "/opt/lib" in body["ld"].split(":")
    assert body["path"].split(":")[0] == "/opt/bin"
    assert body["data"] == "lib"  # /opt and /code are FC's real paths in the sandbox
    assert body["flags"] == "--root=/code/static"


def test_unpack_refuses_path_escape(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("../evil.py", "x")
    (tmp_path / "out").mkdir()
    with pytest.raises(PackageError, match="unsafe path"):
        extract_zip(bad, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_unpack_bounds_size(tmp_path: Path) -> None:
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (4 << 20))
    (tmp_path / "out").mkdir()
    with pytest.raises(PackageError, match="more than"):
        extract_zip(big, tmp_path / "out", max_bytes=1 << 20)


async def test_bad_code_package_is_an_error_result(
    runtime: ProcessRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    spec = make_spec(ECHO_EVENT, code_zip=junk, code_checksum="junk")
    result = await runtime.invoke(spec, InvokeRequest("j-1", b""))
    assert result.error_type == "UnhandledInvocationError"
    assert "code package" in json.loads(result.body)["errorMessage"]
