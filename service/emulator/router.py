"""A small router over the *raw* request path.

Routing on the raw path (then unquoting each segment) keeps ``%2F`` inside a
parameter from being mistaken for a separator, and lets every route carry the
FC action name used for fault injection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from starlette.responses import Response

if TYPE_CHECKING:
    from service.emulator.context import Call

Handler = Callable[["Call"], Awaitable[Response]]
# For operations that name their function outside the path (the tag API): which
# function a call targets, so fault rules narrowed to one function still apply.
FunctionOf = Callable[["Call"], str | None]


@dataclass(frozen=True)
class Route:
    method: str
    parts: tuple[str, ...]
    action: str
    handler: Handler
    function_of: FunctionOf | None = None


class Router:
    def __init__(self) -> None:
        self._routes: dict[int, list[Route]] = {}

    def route(
        self, method: str, pattern: str, action: str, *, function_of: FunctionOf | None = None
    ) -> Callable[[Handler], Handler]:
        parts = tuple(pattern.strip("/").split("/"))

        def register(handler: Handler) -> Handler:
            route = Route(method, parts, action, handler, function_of)
            self._routes.setdefault(len(parts), []).append(route)
            return handler

        return register

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        return self._find(raw_path, method)

    def knows_path(self, raw_path: str) -> bool:
        """Whether some route serves this path (with another method)."""
        return self._find(raw_path, None) is not None

    def _find(self, raw_path: str, method: str | None) -> tuple[Route, dict[str, str]] | None:
        segments = raw_path.strip("/").split("/")
        for route in self._routes.get(len(segments), ()):
            if method is not None and route.method != method:
                continue
            params: dict[str, str] = {}
            for want, got in zip(route.parts, segments, strict=True):
                if want.startswith("{"):
                    if not got:
                        break
                    params[want[1:-1]] = unquote(got)
                elif want != got:
                    break
            else:
                return route, params
        return None


API = Router()
