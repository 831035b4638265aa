"""Where the API is and who we are: options and environment, else the `fcplane login` file.

The context file holds a bearer token, so it is written 0600 and refused when
other users can read it (as ssh refuses a readable private key).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.client.errors import ApiError, ClientError, problem_message

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
# A project deploy waits for FC; reading may take minutes, connecting must not.
CONNECT_SECONDS, READ_SECONDS = 10.0, 900.0


def context_path() -> Path:
    """``$FCPLANE_CONFIG_DIR/context.json``, else under ``$XDG_CONFIG_HOME`` or ~/.config."""
    given = os.environ.get("FCPLANE_CONFIG_DIR")
    if given:
        return Path(given) / "context.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "fcplane" / "context.json"


def read_context() -> dict[str, str]:
    path = context_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ClientError(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):04o}) and holds a "
            f"token: run `chmod 600 {path}`, or `fcplane login` again"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read {path}: {exc}; run `fcplane login` again") from None
    if not isinstance(data, dict):
        raise ClientError(f"{path} is not an fcplane context file; run `fcplane login` again")
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def write_context(url: str, token: str) -> Path:
    path = context_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    # Created 0600 from the start: the token is never readable by others, not even briefly.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)
    return path


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None


def target(url: str | None, token: str | None) -> Target:
    """Options (or FCPLANE_URL / FCPLANE_TOKEN) first, then the login file."""
    saved = read_context() if url is None or token is None else {}
    chosen_url = (url or saved.get("url") or DEFAULT_URL).rstrip("/")
    if not chosen_url.startswith(("http://", "https://")):
        raise ClientError(f"FCPLANE_URL {chosen_url!r} is not an http:// or https:// URL")
    chosen_token = token or (
        saved.get("token") if saved.get("url", chosen_url) == chosen_url else None
    )
    return Target(chosen_url, chosen_token)


def _import_httpx() -> None:
    """Import httpx without its own command-line client: its package imports that
    (click, pygments, rich: a quarter of a deploy's start-up) when it can, and the
    fcplane CLI never uses it. Only in a process that has not imported httpx yet."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
        import httpx  # noqa: F401


class Api:
    """fcplane's HTTP API: JSON in and out, problem+json turned into ApiError."""

    def __init__(self, where: Target) -> None:
        _import_httpx()
        import httpx

        self.url = where.url
        headers = {"User-Agent": "fcplane-cli"}
        if where.token:
            headers["Authorization"] = f"Bearer {where.token}"
        self.http = httpx.Client(
            base_url=where.url,
            headers=headers,
            timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
            # Plain http needs no CA bundle (loading certifi's costs tens of ms); the
            # client only ever requests paths under base_url and never follows redirects.
            verify=not where.url.startswith("http://"),
        )
        self.has_token = bool(where.token)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """The response when its status is in ``ok`` or ``allow``; ApiError otherwise."""
        import httpx

        if not self.has_token:
            raise ClientError(
                "no token: set FCPLANE_TOKEN, pass --token or run `fcplane login URL`"
            )
        try:
            response = self.http.request(
                method, path, json=json, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise ClientError(
                f"fcplane at {self.url} did not answer {method} {path} in time"
            ) from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ClientError(
                f"cannot reach fcplane at {self.url} ({reason}); is `fcplane serve` running "
                "there? (FCPLANE_URL)"
            ) from None
        if response.status_code in ok or response.status_code in allow:
            return response
        raise api_error(response, f"{method} {path}")

    def get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=query).json()

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs).json()

    def pages(self, path: str, limit: int | None = None, **params: Any) -> Iterator[Any]:
        """The items of a paginated list, following ``next_cursor``."""
        cursor: str | None = None
        seen = 0
        while True:
            page = self.get(path, cursor=cursor, **params)
            for item in page.get("items", []):
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("next_cursor")
            if not cursor:
                return


def api_error(response: httpx.Response, what: str) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(response.status_code, body, problem_message(response.status_code, body, what))
