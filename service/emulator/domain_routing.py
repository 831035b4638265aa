"""Serving custom domains: requests whose ``Host`` is a custom domain go to its routes' functions.

Locally nothing resolves your domain, so name it in the Host header:
``curl -H 'Host: example.com' http://127.0.0.1:9000/api/x`` (``auto`` domains end
in ``.localhost``, which curl and browsers already send to loopback).

For a request: the domain is the Host (port dropped, case ignored; else the
nearest ``*.parent`` wildcard domain); the domain's ``authConfig`` is checked;
the route is the most specific match of the path — an exact path before any
wildcard, longer wildcard prefixes (``/api/v1/*``) before shorter (``/*``);
the route's ``methods`` filter the method; its ``rewriteConfig`` rewrites the
path (equal rules, then wildcard rules, then regex rules; the first match
wins; ``$1``... in a replacement are the wildcard's stars or the regex's
groups); then the request is exactly what it would be through the function's
HTTP trigger on the route's qualifier, whose own methods and auth apply too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import TRIGGER
from service.emulator.context import Emulator
from service.emulator.custom_domains import CUSTOM_DOMAIN
from service.emulator.errors import FCError
from service.emulator.fc_assumptions import NO_HTTP_TRIGGER, ROUTE_NOT_FOUND
from service.emulator.http_auth import domain_auth
from service.emulator.http_trigger import Incoming, check_auth, serve_http
from service.emulator.store import Doc

_GROUP_REF = re.compile(r"\$(\d+)")


def host_name(host_header: str) -> str | None:
    """The host a request names, lower-cased without port; None for IPs and dot-less names."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return None  # an IPv6 literal
    host = host.rsplit(":", 1)[0] if ":" in host else host
    host = host.rstrip(".")
    if "." not in host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


def find_domain(emu: Emulator, host_header: str) -> Doc | None:
    """The custom domain a request's Host names, if any (exact first, then wildcards)."""
    host = host_name(host_header)
    if host is None:
        return None
    found = emu.store.get(CUSTOM_DOMAIN, "", host)
    labels = host.split(".")
    for i in range(1, len(labels) - 1):
        if found is not None:
            break
        found = emu.store.get(CUSTOM_DOMAIN, "", "*." + ".".join(labels[i:]))
    return found


def match_route(routes: list[dict[str, Any]], path: str) -> dict[str, Any] | None:
    for route in routes:
        if route["path"] == path:
            return route
    wildcards = sorted(
        (r for r in routes if r["path"].endswith("*")), key=lambda r: -len(r["path"])
    )
    return next((r for r in wildcards if path.startswith(r["path"][:-1])), None)


def _expand(replacement: str, groups: tuple[str | Any, ...]) -> str:
    def group(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return str(groups[i - 1] or "") if 0 < i <= len(groups) else ""

    return _GROUP_REF.sub(group, replacement)


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join("(.*)" if c == "*" else re.escape(c) for c in pattern))


def rewrite_path(rewrite: dict[str, Any] | None, path: str) -> str:
    """The path after the first matching rewrite rule (unchanged when none matches)."""
    if not rewrite:
        return path
    for rule in rewrite.get("equalRules") or []:
        if rule["match"] == path:
            return str(rule["replacement"])
    for rule in rewrite.get("wildcardRules") or []:
        hit = _wildcard_regex(rule["match"]).fullmatch(path)
        if hit:
            return _expand(rule["replacement"], hit.groups())
    for rule in rewrite.get("regexRules") or []:
        found = re.search(rule["match"], path)
        if found:
            return _expand(rule["replacement"], found.groups())
    return path


def _http_trigger_for(emu: Emulator, function_name: str, qualifier: str) -> tuple[str, Doc]:
    catalog.get_function(emu, function_name)
    for _, name, doc in emu.store.list(TRIGGER, function_name):
        if doc.get("triggerType") == "http" and (doc.get("qualifier") or "LATEST") == qualifier:
            return name, doc
    raise FCError(
        404,
        NO_HTTP_TRIGGER,
        f"function '{function_name}' has no HTTP trigger on qualifier '{qualifier}': "
        "a custom domain route needs one",
    )


def resolve_route(domain: Doc, method: str, path: str) -> tuple[dict[str, Any], str]:
    """The route serving ``method path`` on this domain and the rewritten path."""
    routes = (domain.get("routeConfig") or {}).get("routes") or []
    route = match_route(routes, path)
    if route is None:
        raise FCError(
            404,
            ROUTE_NOT_FOUND,
            f"no route of custom domain '{domain['domainName']}' matches path {path}",
        )
    methods = [m.upper() for m in route.get("methods") or []]
    if methods and method.upper() not in methods:
        raise FCError(
            400, "MethodNotAllowed", f"method {method} is not allowed by the route {route['path']}"
        )
    rewritten = rewrite_path(route.get("rewriteConfig"), path)
    return route, rewritten if rewritten.startswith("/") else "/" + rewritten


async def serve_domain(
    emu: Emulator,
    incoming: Incoming,
    domain: Doc,
    before: Callable[[str], Awaitable[None]],
) -> Response:
    """Serve a request to a custom domain; ``before(function)`` runs once the route is known."""
    path = incoming.raw_path.split("?", 1)[0] or "/"
    route, rewritten = resolve_route(domain, incoming.request.method, path)
    await before(str(route["functionName"]))
    parts = incoming.parts(path)
    # The domain's auth sees the path as requested; claims it passes on reach the function.
    check_auth(emu, incoming, domain_auth(domain.get("authConfig")), parts)
    parts.path = rewritten
    function_name = str(route["functionName"])
    trigger_name, trigger = _http_trigger_for(
        emu, function_name, str(route.get("qualifier") or "LATEST")
    )
    return await serve_http(emu, incoming, parts, function_name, trigger_name, trigger)
