"""``Aliyun::Serverless::CustomDomain`` resources as the fc3 ``customDomain`` prop.

Each route goes onto the function it names — matched on service *and* function, where
fc-transform matched on the service alone and could put a route on the wrong function.
On deploy fc3 adds a function's route to the domain and keeps the routes already
there, which is how several functions share one domain (fixture
``fc3/13-custom-domain-two-functions-one-domain``). A route to a function outside the
template, or a second route for one function, has no place in this s.yaml: reported.
"""

from __future__ import annotations

from typing import Any

from service.projects.fun2s.context import Context, Path
from service.projects.fun2s.flatten import Function

CUSTOM_DOMAIN = "Aliyun::Serverless::CustomDomain"
_CERT = {"CertName": "certName", "PrivateKey": "privateKey", "Certificate": "certificate"}


def attach_domain(
    ctx: Context, key: str, resource: dict[str, Any], path: Path, functions: list[Function]
) -> None:
    here = (*path, "Properties")
    properties = ctx.mapping(here, resource.get("Properties")) or {}
    for extra in resource:
        if extra not in ("Type", "Properties"):
            ctx.drop((*path, str(extra)), "not part of a Funcraft custom domain")
    base = _domain(ctx, key, properties, here)
    routes = _routes(ctx, properties, here)
    if routes is None:
        return
    index = {(f.service, f.name): f for f in functions}
    attached = 0
    for route_path, target in routes.items():
        at = (*here, "RouteConfig", "Routes", str(route_path))
        if _attach(ctx, at, base, str(route_path), target, index):
            attached += 1
    if base["domainName"] == "auto" and attached > 1:
        ctx.warn(
            (*here, "DomainName"),
            "Auto becomes fc3's domainName: auto, a test domain per function, not one domain",
        )


def _domain(ctx: Context, key: str, properties: dict[str, Any], path: Path) -> dict[str, Any]:
    name = ctx.text((*path, "DomainName"), properties.get("DomainName", key)) or key
    base: dict[str, Any] = {"domainName": "auto" if name.lower() == "auto" else name}
    protocol = properties.get("Protocol")
    if protocol is None:
        ctx.warn(path, "no Protocol: written as HTTP")
    base["protocol"] = ctx.text((*path, "Protocol"), protocol or "HTTP") or "HTTP"
    cert = properties.get("CertConfig")
    if cert is not None:
        config = ctx.mapping((*path, "CertConfig"), cert) or {}
        out = {}
        for field, value in config.items():
            if field in _CERT:
                out[_CERT[field]] = value
            else:
                ctx.drop((*path, "CertConfig", str(field)), "not a CertConfig property")
        if out:
            base["certConfig"] = out
    for field in properties:
        if field not in ("DomainName", "Protocol", "CertConfig", "RouteConfig"):
            ctx.drop((*path, str(field)), "not a Funcraft custom domain property")
    return base


def _routes(ctx: Context, properties: dict[str, Any], path: Path) -> dict[str, Any] | None:
    config = properties.get("RouteConfig")
    routes = None
    if isinstance(config, dict):
        routes = config.get("Routes", config.get("routes"))
    if not isinstance(routes, dict) or not routes:
        ctx.drop(path, "a custom domain without routes has nothing to bind in FC 3.0")
        return None
    return routes


def _attach(
    ctx: Context,
    path: Path,
    base: dict[str, Any],
    route_path: str,
    target: Any,
    index: dict[tuple[str, str], Function],
) -> bool:
    if not isinstance(target, dict):
        ctx.drop(path, "a route names ServiceName and FunctionName")
        return False
    service = target.get("ServiceName", target.get("serviceName"))
    name = target.get("FunctionName", target.get("functionName"))
    qualifier = target.get("Qualifier", target.get("qualifier"))
    function = index.get((str(service), str(name)))
    if function is None:
        ctx.drop(
            path,
            f"routes to {service}/{name}, which this template does not define: in FC 3.0 the "
            f"route belongs in the customDomain prop of function {service}${name}",
        )
        return False
    if "customDomain" in function.props:
        ctx.drop(
            path,
            f"{function.function_name} already takes route {function.routes[0]}; fc3's "
            "customDomain prop holds one route per function",
        )
        return False
    route: dict[str, Any] = {"path": route_path}
    if qualifier is not None:
        route["qualifier"] = str(qualifier)
        if str(qualifier) != "LATEST":
            ctx.warn(
                path,
                f"qualifier {qualifier!r} must exist as a version/alias of the FC 3.0 function",
            )
    function.props["customDomain"] = {**base, "route": route}
    function.routes.append(f"{base['domainName']}{route_path}")
    if not function.http_qualifiers:
        ctx.warn(
            path,
            f"{function.function_name} has no HTTP trigger; FC serves custom-domain routes to "
            "HTTP-triggered functions",
        )
    return True
