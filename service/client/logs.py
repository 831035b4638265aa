"""`fcplane logs`: a function's log lines, read (or followed) through fcplane's API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from service.client.connection import Api, Target, api_error
from service.client.errors import OK, ClientError, problem_message
from service.client.functions import locate
from service.client.output import Output


def _text(line: dict[str, Any]) -> str:
    """``time request-id message``; context.getLogger() lines already carry the id."""
    stamp = str(line.get("time", "")).replace("+00:00", "Z")
    request_id = line.get("request_id") or "-"
    message = str(line.get("message", ""))
    return f"{stamp} {message}" if request_id in message else f"{stamp} {request_id} {message}"


def _events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, data) of a server-sent event stream."""
    event, data = "message", ""
    for line in lines:
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


def logs(
    out: Output,
    where: Target,
    name: str,
    account: str | None,
    params: dict[str, Any],
    follow: bool,
) -> int:
    with Api(where) as api:
        alias, function = locate(api, name, account)
        path = f"/v1/accounts/{quote(alias)}/functions/{quote(function)}/logs"
        query = {k: v for k, v in params.items() if v is not None}
        if not follow:
            body = api.get(path, **query)
            out.document(body)
            for line in body.get("items", []):
                out.line(_text(line))
            if body.get("truncated"):
                out.note(f"more lines matched: showing the newest {len(body['items'])} (--limit)")
            return OK
        return _follow(out, api, path, query)


def _follow(out: Output, api: Api, path: str, query: dict[str, Any]) -> int:
    """Print the stream; when the server ends it (after 5 minutes), reconnect from the
    newest line's second, skipping the lines of that second already printed."""
    from collections import Counter

    import httpx

    headers = {"Accept": "text/event-stream"}
    newest: str | None = None
    at_newest: Counter[str] = Counter()  # lines printed in the newest second
    while True:
        params = {**query, "from": newest} if newest else query
        skip = Counter(at_newest) if newest else Counter[str]()
        try:
            with api.http.stream(
                "GET", path, params=params, headers=headers, timeout=httpx.Timeout(None, connect=10)
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise api_error(response, f"GET {path}")
                for event, data in _events(response.iter_lines()):
                    if event == "error":
                        raise ClientError(problem_message(data.get("status", 502), data, "follow"))
                    if event != "log":
                        continue
                    key = json.dumps(data, sort_keys=True)
                    if skip[key] > 0 and data.get("time") == newest:
                        skip[key] -= 1
                        continue
                    if data.get("time") != newest:
                        newest, at_newest = data.get("time"), Counter()
                    at_newest[key] += 1
                    if out.json:
                        print(json.dumps(data, separators=(",", ":")), flush=True)
                    else:
                        out.line(_text(data))
        except httpx.TransportError as exc:
            raise ClientError(f"lost the stream from {api.url} ({type(exc).__name__})") from None
