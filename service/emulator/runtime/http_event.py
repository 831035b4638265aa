"""FC 3.0 HTTP-trigger mapping for standard runtimes: request -> event JSON, return -> response.

Standard runtimes do not see an HTTP request; FC turns it into an event
(repeated keys joined with commas, binary bodies base64) and turns the
handler's ``{statusCode, headers, isBase64Encoded, body}`` back into a
response. Anything else the handler returns becomes a 200 body (unconfirmed
in FC's docs, but what handlers rely on).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from urllib.parse import unquote

from .contract import HttpRequest


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def build_event(request: HttpRequest, account_id: str, now: float | None = None) -> bytes:
    now = time.time() if now is None else now
    try:
        body, is_b64 = request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        body, is_b64 = base64.b64encode(request.body).decode(), True
    headers = _joined(request.headers)
    user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), "")
    event = {
        "version": "v1",
        "rawPath": request.raw_path,
        "body": body,
        "isBase64Encoded": is_b64,
        "headers": headers,
        "queryParameters": _joined(request.query),
        "requestContext": {
            "accountId": account_id,
            "domainName": request.domain_name,
            "domainPrefix": request.domain_name.split(".", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": unquote(request.raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request.request_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "timeEpoch": str(int(now * 1000)),
        },
    }
    return json.dumps(event).encode()


def map_response(returned: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """The handler's encoded return value -> (status, headers, body)."""
    try:
        value = json.loads(returned) if returned[:1] == b"{" else None
    except ValueError:
        value = None
    if not isinstance(value, dict) or "statusCode" not in value:
        return 200, [], returned
    try:
        status = int(value["statusCode"])
    except (TypeError, ValueError):
        return 200, [], returned
    headers: list[tuple[str, str]] = []
    raw_headers = value.get("headers") or {}
    if isinstance(raw_headers, dict):
        for key, val in raw_headers.items():
            for item in val if isinstance(val, list) else [val]:
                headers.append((str(key), str(item)))
    body = value.get("body", "")
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    if value.get("isBase64Encoded") and data:
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return 502, [], b'{"errorMessage": "isBase64Encoded is true but body is not base64"}'
    return status, headers, data
