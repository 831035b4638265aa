"""`fcplane login` / `logout`: the context file the client commands fall back on."""

from __future__ import annotations

import getpass
import os
import sys

from service.client.connection import Api, Target, context_path, write_context
from service.client.errors import OK, ClientError
from service.client.output import Output


def _token(given: str | None) -> str:
    if given:
        return given.strip()
    if sys.stdin.isatty():
        return getpass.getpass("fcplane token: ").strip()
    return sys.stdin.readline().strip()


def login(out: Output, url: str, token: str | None) -> int:
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"{url!r} is not an http:// or https:// URL")
    secret = _token(token)
    if not secret:
        raise ClientError("no token given (--token, FCPLANE_TOKEN, or on stdin)")
    with Api(Target(url, secret)) as api:
        api.get("/v1/projects", limit=1)  # any read: proves the URL and the token
    path = write_context(url, secret)
    out.line(f"Logged in to {url}; saved in {path} (mode 0600).")
    out.document({"url": url, "context": str(path)})
    return OK


def logout(out: Output) -> int:
    path = context_path()
    existed = path.exists()
    if existed:
        os.unlink(path)
    out.line(f"Removed {path}." if existed else "Not logged in.")
    out.document({"context": str(path), "removed": existed})
    return OK
