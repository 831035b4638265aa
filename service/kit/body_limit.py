"""Request bodies bounded before anything reads them.

FastAPI reads and parses a JSON body before it resolves dependencies, so
without a bound an anonymous client could make the server hold any amount of
memory before authentication refuses it. This ASGI middleware sits outside the
application: a declared ``Content-Length`` over the limit is answered with 413
at once, unread; a body sent without one (chunked) is counted as it streams in
and cut off with 413 the moment it passes the limit. Routes that take large
bodies on purpose (code packages) get their own, larger limit by path prefix.

Not FastAPI's own ``max_body_size``: for a declared oversized body, Starlette's
limiter answers (and replaces whatever the application answers with) a
``text/plain`` 413, where every error of this API is problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.kit.errors import PROBLEM_JSON, PayloadTooLarge, problem_body


class _TooLarge(BaseException):
    # A BaseException, so that no exception handler of the application turns
    # it into a 500 on its way out to this middleware.
    pass


def _problem(limit: int) -> bytes:
    body = problem_body(
        PayloadTooLarge.status,
        PayloadTooLarge.code,
        PayloadTooLarge.title,
        f"the request body is larger than this endpoint's {limit}-byte limit",
        limit=limit,
    )
    return json.dumps(body).encode()


class BodyLimit:
    def __init__(
        self, app: ASGIApp, limit: int, by_prefix: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        # Longest prefix first, so the most specific one wins.
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = _problem(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
