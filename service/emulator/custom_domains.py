"""Custom domains: FC's input rules and the wire shape (``CustomDomain`` in the SDK's models).

A domain is stored as given (after validation) with its timestamps; the
certificate's private key is kept for the domain but never sent back.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from service.emulator.context import API_VERSION, Emulator
from service.emulator.errors import FCError, invalid, not_found
from service.emulator.fc_assumptions import AUTO_DOMAIN_SUFFIX
from service.emulator.http_auth import domain_auth
from service.emulator.store import Doc
from service.emulator.trigger_config import HTTP_METHODS
from service.emulator.validation import NAME_RE, parse_body

CUSTOM_DOMAIN = "custom_domain"
UPDATE_FIELDS = {
    "authConfig": "obj",
    "certConfig": "obj",
    "corsConfig": "obj",
    "protocol": "str",
    "routeConfig": "obj",
    "tlsConfig": "obj",
    "wafConfig": "obj",
}
CREATE_FIELDS = {**UPDATE_FIELDS, "domainName": "str", "isE2B": "bool"}
PROTOCOLS = ("HTTP", "HTTPS", "HTTP,HTTPS")
TLS_VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Labels of letters, digits and '-', a top-level label that starts with a letter (so
# no IP address), optionally one leading "*." for a wildcard domain.
DOMAIN_RE = re.compile(rf"^(?:\*\.)?(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?$")
_RULE_KINDS = ("equalRules", "wildcardRules", "regexRules")
_PATH_FIELDS = {"path", "functionName", "qualifier", "methods", "rewriteConfig"}
_CORS_FIELDS = {
    "allowCredentials": bool,
    "allowHeaders": list,
    "allowMethods": list,
    "allowOrigins": list,
    "exposeHeaders": list,
    "maxAge": int,
}


def domain_not_found(name: str) -> FCError:
    return not_found("DomainNameNotFound", f"custom domain '{name}' does not exist.")


def get_domain(emu: Emulator, name: str) -> Doc:
    doc = emu.store.get(CUSTOM_DOMAIN, "", name.lower())
    if doc is None:
        raise domain_not_found(name)
    return doc


def new_domain_name(emu: Emulator, requested: str) -> str:
    if requested == "auto":
        return f"{uuid.uuid4().hex[:12]}.{emu.settings.region}{AUTO_DOMAIN_SUFFIX}"
    name = requested.strip().lower().rstrip(".")
    if len(name) > 253 or not DOMAIN_RE.match(name):
        raise invalid(
            f"domainName {requested!r} is invalid: a host name such as example.com or "
            "*.example.com (no IP address, no port), or 'auto'"
        )
    return name


def _strict(value: object, what: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{what} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise invalid(f"unknown field(s) in {what}: {', '.join(unknown)}")
    return value


def _string_list(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{what} must be a list of strings")
    return value


def _check_rewrite(value: object, at: str) -> None:
    rewrite = _strict(value, f"{at}.rewriteConfig", set(_RULE_KINDS))
    for kind in _RULE_KINDS:
        rules = rewrite.get(kind)
        if rules is None:
            continue
        if not isinstance(rules, list):
            raise invalid(f"{at}.rewriteConfig.{kind} must be a list of {{match, replacement}}")
        for j, rule in enumerate(rules):
            where = f"{at}.rewriteConfig.{kind}[{j}]"
            rule = _strict(rule, where, {"match", "replacement"})
            match, replacement = rule.get("match"), rule.get("replacement")
            if not isinstance(match, str) or not match or not isinstance(replacement, str):
                raise invalid(f"{where} needs a non-empty string match and a string replacement")
            if kind == "regexRules":
                try:
                    re.compile(match)
                except re.error as exc:
                    raise invalid(f"{where}.match is not a regular expression: {exc}") from None
            elif not match.startswith("/"):
                raise invalid(f"{where}.match must be a path starting with '/'")


def _check_routes(value: object) -> None:
    route_config = _strict(value, "routeConfig", {"routes"})
    routes = route_config.get("routes", [])
    if not isinstance(routes, list):
        raise invalid("routeConfig.routes must be a list of path configs")
    seen: set[str] = set()
    for i, route in enumerate(routes):
        at = f"routeConfig.routes[{i}]"
        route = _strict(route, at, _PATH_FIELDS)
        path = route.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise invalid(f"{at}.path is required and must start with '/' (e.g. /api/*)")
        if "*" in path[:-1]:
            raise invalid(f"{at}.path {path!r} is invalid: '*' may only end a path")
        if path in seen:
            raise invalid(f"{at}.path {path!r} is routed twice")
        seen.add(path)
        fn = route.get("functionName")
        if not isinstance(fn, str) or not NAME_RE.match(fn):
            raise invalid(f"{at}.functionName is required and must be a valid function name")
        qualifier = route.get("qualifier")
        if qualifier is not None and not isinstance(qualifier, str):
            raise invalid(f"{at}.qualifier must be a string")
        if "methods" in route and any(
            m.upper() not in HTTP_METHODS for m in _string_list(route["methods"], f"{at}.methods")
        ):
            raise invalid(f"{at}.methods must be HTTP methods: {', '.join(HTTP_METHODS)}")
        if route.get("rewriteConfig") is not None:
            _check_rewrite(route["rewriteConfig"], at)


def _check_cert(value: object, stored: Doc | None) -> dict[str, Any]:
    cert = dict(_strict(value, "certConfig", {"certName", "certificate", "privateKey"}))
    if not all(isinstance(cert.get(k), str) for k in ("certName", "certificate")):
        raise invalid("certConfig needs certName and certificate (PEM)")
    old = (stored or {}).get("certConfig") or {}
    if not cert.get("privateKey") and old.get("certificate") == cert["certificate"]:
        # The key is never read back, so an update that repeats the certificate keeps it.
        cert["privateKey"] = old.get("privateKey", "")
    if not isinstance(cert.get("privateKey"), str) or not cert["privateKey"]:
        raise invalid("certConfig.privateKey (PEM) is required")
    try:
        certificate = x509.load_pem_x509_certificate(cert["certificate"].encode())
    except ValueError:
        raise invalid("certConfig.certificate is not a PEM X.509 certificate") from None
    try:
        key = serialization.load_pem_private_key(cert["privateKey"].encode(), password=None)
    except (ValueError, TypeError):
        raise invalid("certConfig.privateKey is not an unencrypted PEM private key") from None
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    if key.public_key().public_bytes(pem, raw) != certificate.public_key().public_bytes(pem, raw):
        raise invalid("certConfig.privateKey does not belong to certConfig.certificate")
    return cert


def _check_tls(value: object) -> None:
    tls = _strict(value, "tlsConfig", {"minVersion", "maxVersion", "cipherSuites"})
    versions = [tls.get("minVersion"), tls.get("maxVersion")]
    for v in versions:
        if v is not None and v not in TLS_VERSIONS:
            raise invalid(f"tlsConfig versions must be one of {', '.join(TLS_VERSIONS)}")
    low, high = versions
    if low and high and TLS_VERSIONS.index(low) > TLS_VERSIONS.index(high):
        raise invalid("tlsConfig.minVersion is above maxVersion")
    if "cipherSuites" in tls:
        _string_list(tls["cipherSuites"], "tlsConfig.cipherSuites")


def _check_cors(value: object) -> None:
    cors = _strict(value, "corsConfig", set(_CORS_FIELDS))
    for key, kind in _CORS_FIELDS.items():
        got = cors.get(key)
        if got is None:
            continue
        if kind is list:
            _string_list(got, f"corsConfig.{key}")
        elif not isinstance(got, kind) or (kind is int and isinstance(got, bool)):
            word = "a boolean" if kind is bool else "an integer"
            raise invalid(f"corsConfig.{key} must be {word}")


def check_domain_body(raw: bytes, stored: Doc | None) -> dict[str, Any]:
    """A Create (stored None) or Update body, validated; Update's fields replace stored ones."""
    body = parse_body(raw, CREATE_FIELDS if stored is None else UPDATE_FIELDS)
    if stored is None:
        body.setdefault("protocol", "HTTP")
    merged = {**(stored or {}), **body}
    protocol = merged["protocol"]
    if protocol not in PROTOCOLS:
        raise invalid(f"protocol {protocol!r} is invalid: one of {', '.join(PROTOCOLS)}")
    if "routeConfig" in body:
        _check_routes(body["routeConfig"])
    if "certConfig" in body:
        body["certConfig"] = _check_cert(body["certConfig"], stored)
    if "HTTPS" in protocol and not (merged.get("certConfig") or {}).get("certificate"):
        raise invalid(f"protocol {protocol} needs certConfig (certificate and privateKey)")
    if "tlsConfig" in body:
        _check_tls(body["tlsConfig"])
    if "authConfig" in body:
        domain_auth(body["authConfig"])
    if "wafConfig" in body:
        waf = _strict(body["wafConfig"], "wafConfig", {"enableWAF"})
        if not isinstance(waf.get("enableWAF", False), bool):
            raise invalid("wafConfig.enableWAF must be a boolean")
    if "corsConfig" in body:
        _check_cors(body["corsConfig"])
    return body


def render_domain(emu: Emulator, doc: Doc) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    if "certConfig" in out:
        out["certConfig"] = {k: v for k, v in out["certConfig"].items() if k != "privateKey"}
    out.setdefault("routeConfig", {"routes": []})
    out.update(
        accountId=emu.settings.account_id,
        apiVersion=API_VERSION,
        subdomainCount="0",
    )
    return out
