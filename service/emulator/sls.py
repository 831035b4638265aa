"""The slice of Simple Log Service (SLS) that reading function logs needs: GetLogs.

fcplane reads a function's logs from its ``logConfig`` project and logstore
through the official SDK (``aliyun-log-python-sdk``); against the emulator the
same SDK calls land here, on the emulator's own port:

- ``POST /logstores/{logstore}/logs`` (GetLogs v2, what SDK 0.9.x sends: a JSON
  body, the answer compressed with lz4 when asked) and
  ``GET /logstores/{logstore}?type=log`` (GetLogs v1: query parameters, a JSON
  list with ``x-log-progress``/``x-log-count`` headers);
- the project is the first label of ``Host`` (the SDK sends ``{project}.{host}``
  even to an IP endpoint);
- requests are signed as SLS signs (``Authorization: LOG <ak>:<signature>``,
  HMAC-SHA1 over the canonical string), checked against the emulator's access
  keys; errors are SLS's ``{"errorCode", "errorMessage"}``.

A project/logstore pair exists while some function's ``logConfig`` names it;
its items are the function logs the emulator keeps in memory (the newest
invocations, see observability.FunctionLogs), grouped by the function's
*current* ``logConfig`` (FC uses the one the serving version had). Search is the
subset in sls_query. Nothing here writes: there is no PutLogs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import lz4.block  # type: ignore[import-untyped]
from starlette.responses import Response

from service.emulator import sls_query
from service.emulator.catalog import FUNCTION
from service.emulator.context import Emulator, new_request_id
from service.emulator.credentials import role_secret
from service.emulator.observability import now

PREFIX = "/logstores/"
MAX_LINES = 100  # GetLogs' `line` limit
MAX_SKEW_S = 15 * 60
_ALL_ENTRIES = 1_000_000
# x-log-date repeats Date for proxies that drop Date; the SDK adds it after signing.
_UNSIGNED_LOG_HEADERS = ("x-log-meta-", "x-log-date")


class SlsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _invalid(message: str) -> SlsError:
    return SlsError(400, "ParameterInvalid", message)


def handles(raw_path: str) -> bool:
    return raw_path.startswith(PREFIX)


async def serve(
    emu: Emulator,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Response:
    """Answer one SLS request; every failure is an SLS error document."""
    request_id = new_request_id().upper()
    try:
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        if emu.settings.access_keys is not None:
            _verify(method, raw_path, params, headers, body, emu.settings.access_keys)
        logstore, v2 = _route(method, raw_path, params)
        if v2:
            try:
                params = {k: v for k, v in json.loads(body or b"{}").items() if v is not None}
            except (ValueError, AttributeError):
                raise _invalid("the body is not a JSON object") from None
        project = _project(headers.get("host", ""))
        return _get_logs(emu, project, logstore, params, v2, headers, request_id)
    except SlsError as err:
        doc = {"errorCode": err.code, "errorMessage": err.message, "requestId": request_id}
        return Response(
            json.dumps(doc),
            status_code=err.status,
            media_type="application/json",
            headers={"x-log-requestid": request_id},
        )


def _route(method: str, raw_path: str, params: Mapping[str, str]) -> tuple[str, bool]:
    parts = raw_path[len(PREFIX) :].split("/")
    if len(parts) == 2 and parts[1] == "logs" and method == "POST":
        return unquote(parts[0]), True
    if len(parts) == 1 and method == "GET" and params.get("type") == "log":
        return unquote(parts[0]), False
    raise SlsError(
        404, "PathNotSupported", f"the emulator serves only GetLogs, not {method} {raw_path}"
    )


def _project(host_header: str) -> str:
    host = host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
    labels = host.split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        raise SlsError(400, "ProjectNotExist", "no project in the Host header ({project}.host)")
    return labels[0]


# -- signature (AuthV1: "LOG <ak>:<base64 HMAC-SHA1>") ---------------------------


def canonical_string(
    method: str, resource: str, params: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """What SLS signs: verb, Content-MD5, Content-Type, Date, x-log-*/x-acs-* headers, resource."""
    signed = "".join(
        f"{k}:{headers[k]}\n"
        for k in sorted(headers)
        if k.startswith("x-acs-")
        or (k.startswith("x-log-") and not k.startswith(_UNSIGNED_LOG_HEADERS))
    )
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return "\n".join(
        [
            method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            headers.get("date") or headers.get("x-log-date", ""),
            signed + resource + (f"?{query}" if query else ""),
        ]
    )


def _verify(
    method: str,
    raw_path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_keys: Mapping[str, str],
) -> None:
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    key_id, _, signature = credential.partition(":")
    if scheme != "LOG" or not key_id or not signature:
        raise SlsError(401, "Unauthorized", "the request is not signed (Authorization: LOG ak:sig)")
    secret = access_keys.get(key_id)
    role = role_secret(access_keys, key_id) if secret is None else None
    if role is not None:
        secret, token = role
        if not hmac.compare_digest(headers.get("x-acs-security-token", ""), token):
            raise SlsError(401, "SecurityTokenInvalid", "the security token is not valid")
    if secret is None:
        raise SlsError(401, "Unauthorized", f"AccessKeyId not found: {key_id}")
    if body and hashlib.md5(body).hexdigest().upper() != headers.get("content-md5", ""):
        raise SlsError(401, "SignatureNotMatch", "Content-MD5 does not match the body")
    _check_date(headers.get("date") or headers.get("x-log-date", ""))
    expected = base64.b64encode(
        hmac.new(
            secret.encode(),
            canonical_string(method, unquote(raw_path), params, headers).encode(),
            hashlib.sha1,
        ).digest()
    ).decode()
    if not hmac.compare_digest(expected, signature):
        raise SlsError(401, "SignatureNotMatch", f"Signature {signature} not matched")


def _check_date(value: str) -> None:
    try:
        sent = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise SlsError(400, "ParameterInvalid", "the Date header is missing or bad") from None
    if abs(now() - sent) > MAX_SKEW_S:
        raise SlsError(400, "RequestTimeTooSkewed", "the request time is too far from now")


# -- GetLogs ------------------------------------------------------------------


def _int(params: Mapping[str, Any], name: str, default: int | None, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise _invalid(f"{name} is required")
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _invalid(f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise _invalid(f"{name} must be between {lo} and {hi}")
    return value


def _logstores(emu: Emulator, project: str) -> dict[str, dict[str, str]]:
    """logstore -> {function name: logBeginRule} of the functions logging to ``project``."""
    found: dict[str, dict[str, str]] = {}
    for _, name, doc in emu.store.list(FUNCTION, ""):
        config = doc.get("config", {}).get("logConfig") or {}
        if config.get("project") == project and config.get("logstore"):
            rule = str(config.get("logBeginRule") or "None")
            found.setdefault(str(config["logstore"]), {})[name] = rule
    return found


def _get_logs(
    emu: Emulator,
    project: str,
    logstore: str,
    params: Mapping[str, Any],
    v2: bool,
    headers: Mapping[str, str],
    request_id: str,
) -> Response:
    stores = _logstores(emu, project)
    if not stores:
        raise SlsError(404, "ProjectNotExist", f"The Project does not exist : {project}")
    functions = stores.get(logstore)
    if functions is None:
        raise SlsError(404, "LogStoreNotExist", f"logstore {logstore} does not exist")
    start = _int(params, "from", None, 0, 2**40)
    end = _int(params, "to", None, 0, 2**40)
    line = _int(params, "line", MAX_LINES, 0, MAX_LINES)
    offset = _int(params, "offset", 0, 0, 2**31)
    reverse = str(params.get("reverse", "false")).lower() == "true"
    topic = params.get("topic") or None
    try:
        terms = sls_query.parse(params.get("query"))
    except sls_query.UnsupportedQuery as exc:
        raise _invalid(f"the emulator's SLS: {exc}") from None
    # FunctionLogs answers newest first; a logstore reads oldest first.
    entries = reversed(emu.logs.query(None, None, _ALL_ENTRIES))
    items = [
        item
        for entry in entries
        if entry.function_name in functions and start <= int(entry.timestamp) < end
        for item in sls_query.items_of(entry, functions[entry.function_name])
        if topic is None or item["__topic__"] == topic
    ]
    matched = sls_query.select(items, terms)
    if reverse:
        matched.reverse()
    page = [_stringified(item) for item in matched[offset : offset + line]]
    meta = {
        "count": len(page),
        "progress": "Complete",
        "processedRows": len(items),
        "elapsedMillisecond": 0,
        "hasSQL": False,
        "whereQuery": str(params.get("query") or ""),
        "aggQuery": "",
        "keys": sorted({k for item in page for k in item}),
    }
    answer: dict[str, str] = {
        "x-log-requestid": request_id,
        "x-log-progress": "Complete",
        "x-log-count": str(len(page)),
        "x-log-processed-rows": str(len(items)),
    }
    raw = json.dumps({"meta": meta, "data": page} if v2 else page, ensure_ascii=False).encode()
    if v2 and "lz4" in headers.get("accept-encoding", "").lower():
        answer["x-log-compresstype"] = "lz4"
        answer["x-log-bodyrawsize"] = str(len(raw))
        raw = lz4.block.compress(raw, store_size=False)
    return Response(raw, media_type="application/json", headers=answer)


def _stringified(item: dict[str, Any]) -> dict[str, str]:
    # SLS answers every value as a string, __time__ included.
    return {k: str(v) for k, v in item.items()}
