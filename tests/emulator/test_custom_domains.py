"""Custom domains: CRUD through the SDK, and requests routed by their Host header."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import HTTP_ECHO_PY, admin, code_of, create_function


def _http_trigger(fc: Client, fn: str, name: str = "http", qualifier: str | None = None) -> None:
    config = {"authType": "anonymous", "methods": ["GET", "POST", "PUT"]}
    fc.create_trigger(
        fn,
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name=name,
                trigger_type="http",
                qualifier=qualifier,
                trigger_config=json.dumps(config),
            )
        ),
    )


def _web(fc: Client, fn: str) -> None:
    create_function(fc, fn, code=code_of(HTTP_ECHO_PY))
    _http_trigger(fc, fn)


def _route(path: str, fn: str, **fields: Any) -> m.PathConfig:
    return m.PathConfig(path=path, function_name=fn, **fields)


def _create(fc: Client, name: str, *routes: m.PathConfig, **fields: Any) -> m.CustomDomain:
    body = m.CreateCustomDomainInput(
        domain_name=name, route_config=m.RouteConfig(routes=list(routes)), **fields
    )
    return fc.create_custom_domain(m.CreateCustomDomainRequest(body=body)).body


def _refused(call: Any, code: str = "InvalidArgument", status: int = 400) -> str:
    with pytest.raises(ClientException) as exc:
        call()
    assert (exc.value.status_code, exc.value.code) == (status, code), exc.value.message
    return str(exc.value.message)


def _self_signed(host: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def test_custom_domain_crud(fc: Client) -> None:
    rewrite = m.RewriteConfig(
        equal_rules=[m.EqualRule(match="/old", replacement="/new")],
        wildcard_rules=[m.WildcardRule(match="/api/*", replacement="/$1")],
        regex_rules=[m.RegexRule(match="^/r/(\\d+)$", replacement="/n/$1")],
    )
    created = _create(
        fc,
        "Example.COM",
        _route("/*", "web", qualifier="LATEST", methods=["GET"], rewrite_config=rewrite),
        waf_config=m.WAFConfig(enable_waf=False),
    )
    assert created.domain_name == "example.com"
    assert created.protocol == "HTTP"
    assert created.account_id == "1234567890"
    assert created.api_version == "2023-03-30"
    assert created.created_time
    assert created.created_time == created.last_modified_time
    assert created.subdomain_count == "0"
    assert created.waf_config.enable_waf is False
    route = created.route_config.routes[0]
    assert (route.path, route.function_name, route.qualifier, route.methods) == (
        "/*",
        "web",
        "LATEST",
        ["GET"],
    )
    assert route.rewrite_config.to_map() == rewrite.to_map()
    got = fc.get_custom_domain("example.com").body
    assert got.to_map() == created.to_map()

    cert, key = _self_signed("example.com")
    updated = fc.update_custom_domain(
        "EXAMPLE.com",
        m.UpdateCustomDomainRequest(
            body=m.UpdateCustomDomainInput(
                protocol="HTTP,HTTPS",
                cert_config=m.CertConfig(cert_name="c1", certificate=cert, private_key=key),
                tls_config=m.TLSConfig(min_version="TLSv1.2", max_version="TLSv1.3"),
            )
        ),
    ).body
    assert updated.protocol == "HTTP,HTTPS"
    assert (updated.cert_config.cert_name, updated.cert_config.certificate) == ("c1", cert)
    assert updated.cert_config.private_key is None  # never sent back
    assert updated.tls_config.min_version == "TLSv1.2"
    assert updated.route_config.to_map() == created.route_config.to_map()  # kept
    assert updated.last_modified_time > created.last_modified_time
    # The certificate read back (without its key) can be sent again unchanged.
    fc.update_custom_domain(
        "example.com",
        m.UpdateCustomDomainRequest(
            body=m.UpdateCustomDomainInput(
                cert_config=m.CertConfig(cert_name="c2", certificate=cert)
            )
        ),
    )
    assert fc.get_custom_domain("example.com").body.cert_config.cert_name == "c2"

    auto = _create(fc, "auto", _route("/", "web"))
    assert auto.domain_name.endswith(".cn-hangzhou.fcapp.localhost")
    _create(fc, "api.example.org")
    listed = fc.list_custom_domains(m.ListCustomDomainsRequest()).body.custom_domains
    assert sorted(d.domain_name for d in listed) == sorted(
        ["example.com", "api.example.org", auto.domain_name]
    )
    assert all(d.cert_config is None or d.cert_config.private_key is None for d in listed)
    page = fc.list_custom_domains(m.ListCustomDomainsRequest(prefix="api.", limit=5)).body
    assert [d.domain_name for d in page.custom_domains] == ["api.example.org"]
    assert fc.delete_custom_domain("api.example.org").status_code == 204
    _refused(lambda: fc.get_custom_domain("api.example.org"), "DomainNameNotFound", 404)
    _refused(lambda: fc.delete_custom_domain("api.example.org"), "DomainNameNotFound", 404)


def test_custom_domain_errors(fc: Client) -> None:
    _create(fc, "taken.example.com")
    _refused(lambda: _create(fc, "TAKEN.example.com"), "DomainNameAlreadyExists", 409)
    for bad_name in ("127.0.0.1", "localhost", "exa mple.com", "example.com:8080", "-a.com"):
        assert "domainName" in _refused(lambda n=bad_name: _create(fc, n))
    assert "protocol" in _refused(lambda: _create(fc, "p.example.com", protocol="FTP"))
    assert "certConfig" in _refused(lambda: _create(fc, "s.example.com", protocol="HTTPS"))
    cert, _ = _self_signed("s.example.com")
    _, other_key = _self_signed("s.example.com")
    mismatched = m.CertConfig(cert_name="c", certificate=cert, private_key=other_key)
    assert "does not belong" in _refused(
        lambda: _create(fc, "s.example.com", protocol="HTTPS", cert_config=mismatched)
    )
    for route in (
        _route("no-slash", "web"),
        _route("/a/*/b", "web"),
        _route("/x", "9bad"),
        _route("/x", "web", methods=["FETCH"]),
        _route(
            "/x",
            "web",
            rewrite_config=m.RewriteConfig(regex_rules=[m.RegexRule(match="(", replacement="")]),
        ),
    ):
        _refused(lambda r=route: _create(fc, "r.example.com", r))
    assert "routed twice" in _refused(
        lambda: _create(fc, "r.example.com", _route("/x", "a"), _route("/x", "b"))
    )
    jwt_auth = m.AuthConfig(auth_type="jwt", auth_info="{}")
    assert "jwks" in _refused(lambda: _create(fc, "j.example.com", auth_config=jwt_auth))
    _refused(
        lambda: fc.update_custom_domain(
            "nowhere.example.com",
            m.UpdateCustomDomainRequest(body=m.UpdateCustomDomainInput(protocol="HTTP")),
        ),
        "DomainNameNotFound",
        404,
    )


def _get(emulator: EmbeddedEmulator, host: str, path: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"{emulator.url}{path}", headers={"Host": host}, content=b"b")


def _seen(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    seen: dict[str, Any] = json.loads(response.headers["x-echo"])
    return seen


def test_requests_follow_routes_and_rewrites(fc: Client, emulator: EmbeddedEmulator) -> None:
    _web(fc, "site")
    _web(fc, "api")
    rules = m.RewriteConfig(
        equal_rules=[m.EqualRule(match="/old", replacement="/new")],
        wildcard_rules=[m.WildcardRule(match="/v1/*/items/*", replacement="/items/$2/of/$1")],
        regex_rules=[m.RegexRule(match="^/r/(\\w+)/(\\d+)$", replacement="/regex/$2/$1")],
    )
    _create(
        fc,
        "shop.example.com",
        _route("/*", "site", rewrite_config=rules),
        _route("/api/*", "api", methods=["GET"]),
        _route("/api/exact", "site"),
    )
    host = "Shop.Example.com:9000"  # the port is dropped and case ignored, as on FC
    assert _get(emulator, host, "/old").headers["x-echo-path"] == "/new"
    assert _get(emulator, host, "/v1/u7/items/42").headers["x-echo-path"] == "/items/42/of/u7"
    assert _get(emulator, host, "/r/abc/12").headers["x-echo-path"] == "/regex/12/abc"
    plain = _get(emulator, host, "/plain/path?q=1&q=2")
    assert plain.headers["x-echo-path"] == "/plain/path"
    seen = _seen(plain)
    assert (seen["function"], seen["query"]) == ("site", {"q": "1,2"})
    assert seen["domainName"] == host
    assert plain.content == b"b"
    # the longest wildcard prefix wins, an exact path beats every wildcard
    assert _seen(_get(emulator, host, "/api/users"))["function"] == "api"
    assert _get(emulator, host, "/api/users").headers["x-echo-path"] == "/api/users"
    assert _seen(_get(emulator, host, "/api/exact"))["function"] == "site"
    refused = _get(emulator, host, "/api/users", "POST")  # the route allows GET only
    assert refused.status_code == 400
    assert refused.headers["x-fc-error-type"] == "FcCommonError"
    assert refused.json()["Code"] == "MethodNotAllowed"
    # the API itself is untouched on the emulator's own address
    assert fc.get_function("site", m.GetFunctionRequest()).body.function_name == "site"


def test_domain_errors_and_wildcard_domains(fc: Client, emulator: EmbeddedEmulator) -> None:
    _web(fc, "site")
    create_function(fc, "no-trigger")
    _create(fc, "*.apps.example.net", _route("/", "site"), _route("/bare", "no-trigger"))
    assert _seen(_get(emulator, "one.apps.example.net", "/"))["function"] == "site"
    missing = _get(emulator, "one.apps.example.net", "/elsewhere")
    assert (missing.status_code, missing.json()["Code"]) == (404, "RouteNotFound")
    assert missing.headers["x-fc-error-type"] == "FcCommonError"
    bare = _get(emulator, "one.apps.example.net", "/bare")
    assert (bare.status_code, bare.json()["Code"]) == (404, "TriggerNotFound")
    assert "no HTTP trigger" in bare.json()["Message"]
    unknown_host = _get(emulator, "other.example.net", "/2023-03-30/functions")
    assert unknown_host.json()["Code"] != "RouteNotFound"  # not a domain: the FC API answers


def test_route_to_a_qualifier(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "rel", code=code_of(HTTP_ECHO_PY))
    fc.publish_function_version(
        "rel", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
    )
    fc.create_alias(
        "rel", m.CreateAliasRequest(body=m.CreateAliasInput(alias_name="prod", version_id="1"))
    )
    _http_trigger(fc, "rel", "prod-http", qualifier="prod")
    _create(
        fc,
        "rel.example.com",
        _route("/prod/*", "rel", qualifier="prod"),
        _route("/latest/*", "rel"),
    )
    response = _get(emulator, "rel.example.com", "/prod/x")
    seen = _seen(response)
    assert (seen["qualifier"], seen["versionId"]) == ("prod", "1")
    assert response.headers["x-fc-invocation-service-version"] == "1"
    latest = _get(emulator, "rel.example.com", "/latest/x")  # no trigger on LATEST
    assert (latest.status_code, latest.json()["Code"]) == (404, "TriggerNotFound")
    logs = admin(emulator, "GET", "logs?functionName=rel").json()["logs"]
    assert logs[0]["triggerName"] == "prod-http"
