"""`fcplane invoke`: run a function once through fcplane's API (sync or async)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from service.client.connection import Api, Target
from service.client.errors import FAILED, OK, ClientError
from service.client.functions import locate
from service.client.output import Output


def parse_headers(values: list[str] | None) -> dict[str, str] | None:
    """``Name:Value`` options as a mapping (the server validates names and values)."""
    if not values:
        return None
    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise ClientError(f"--header {value!r}: write it as Name:Value")
        headers[name.strip()] = text.strip()
    return headers


def request_body(
    payload: str | None,
    payload_file: Path | None,
    qualifier: str | None,
    asynchronous: bool,
    headers: list[str] | None,
    task_id: str | None,
    log: bool,
) -> dict[str, Any]:
    if payload is not None and payload_file is not None:
        raise ClientError("give --payload or --payload-file, not both")
    body: dict[str, Any] = {"mode": "async" if asynchronous else "sync", "log_tail": log}
    if payload is not None:
        try:
            body["payload"] = json.loads(payload)
        except ValueError:
            raise ClientError(
                "--payload must be JSON (quote a string: '\"text\"'); send other bytes with "
                "--payload-file"
            ) from None
    elif payload_file is not None:
        try:
            data = (
                sys.stdin.buffer.read() if str(payload_file) == "-" else payload_file.read_bytes()
            )
        except OSError as exc:
            raise ClientError(f"--payload-file {payload_file}: {exc.strerror or exc}") from None
        body["payload_base64"] = base64.b64encode(data).decode()
    if qualifier:
        body["qualifier"] = qualifier
    if (parsed := parse_headers(headers)) is not None:
        body["headers"] = parsed
    if task_id:
        body["async_task_id"] = task_id
    return body


def _answer(result: dict[str, Any]) -> str:
    fmt = result.get("response_format")
    if fmt == "json":
        return json.dumps(result.get("response"), indent=2, ensure_ascii=False)
    if fmt == "text":
        return str(result.get("response_text") or "")
    if fmt == "binary":
        return f"({len(base64.b64decode(result.get('response_base64') or ''))} bytes, binary)"
    return "(empty)"


def _figures(result: dict[str, Any]) -> str:
    parts = [f"FC request {result.get('fc_request_id') or '-'}"]
    if result.get("served_version"):
        parts.append(f"served by {result['served_version']}")
    if result.get("duration_ms") is not None:
        billed = result.get("billed_duration_ms")
        parts.append(f"{result['duration_ms']:g} ms" + (f" (billed {billed} ms)" if billed else ""))
    if result.get("max_memory_mb") is not None:
        parts.append(f"{result['max_memory_mb']:g} MB max memory")
    return ", ".join(parts)


def invoke(out: Output, where: Target, name: str, account: str | None, body: dict[str, Any]) -> int:
    with Api(where) as api:
        alias, function = locate(api, name, account)
        result = api.post(f"/v1/accounts/{alias}/functions/{function}/invoke", body)
    out.document(result)
    if result.get("mode") == "async":
        out.line(f"Queued async task {result.get('async_task_id')} on {alias}/{function}")
        out.line(f"FC request {result.get('fc_request_id') or '-'}")
        return OK
    if result.get("log"):
        out.line("Log tail:", "bold")
        for line in str(result["log"]).rstrip("\n").splitlines():
            out.line("  " + line)
    out.line(_figures(result), "bold")
    if result.get("function_error"):
        out.line(f"Function error: {result['function_error']}", "bold red")
    out.line(_answer(result))
    return FAILED if result.get("function_error") else OK
