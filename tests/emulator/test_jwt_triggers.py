"""HTTP triggers with ``authType: jwt``: tokens checked against the JWKS, claims passed on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import HTTP_ECHO_PY, code_of, create_function

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(kid: str = "k1") -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {**jwk, "alg": "RS256", "use": "sig", "kid": kid}


def _token(key: Any = KEY, kid: str | None = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"uid": "u-42", "role": "admin", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def _forged_hs256(secret: bytes) -> str:
    """The classic forgery: HS256 keyed with the RSA public key (PyJWT refuses to make one)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = part(json.dumps({"uid": "x"}).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


def _auth_config(**overrides: Any) -> dict[str, Any]:
    return {
        "jwks": {"keys": [_jwk()]},
        "tokenLookup": "header:Authorization:Bearer ,query:token",
        "claimPassBy": "header:uid:x-uid,query:role:role",
        **overrides,
    }


def _trigger(fc: Client, fn: str, auth_config: Any, auth_type: str = "jwt") -> str:
    config = {"authType": auth_type, "methods": ["GET", "POST"], "authConfig": auth_config}
    return str(
        fc.create_trigger(
            fn,
            m.CreateTriggerRequest(
                body=m.CreateTriggerInput(
                    trigger_name="jwt", trigger_type="http", trigger_config=json.dumps(config)
                )
            ),
        ).body.http_trigger.url_internet
    )


def _seen(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    seen: dict[str, Any] = json.loads(response.headers["x-echo"])
    return seen


def _denied(response: httpx.Response, why: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["x-fc-error-type"] == "FcCommonError"
    body = response.json()
    assert body["Code"] == "InvalidJWT"
    assert why in body["Message"]
    assert body["RequestId"] == response.headers["x-fc-request-id"]


def test_tokens_are_verified_and_claims_passed(fc: Client) -> None:
    create_function(fc, "jw", code=code_of(HTTP_ECHO_PY))
    url = _trigger(fc, "jw", _auth_config())
    bearer = {"Authorization": f"Bearer {_token()}", "x-uid": "forged"}
    seen = _seen(httpx.get(f"{url}/me", headers=bearer))
    assert seen["headers"]["x-uid"] == "u-42"  # the claim replaces what the client sent
    assert seen["query"] == {"role": "admin"}
    by_query = _seen(httpx.get(f"{url}/me", params={"token": _token(role="viewer")}))
    assert by_query["query"]["role"] == "viewer"
    _denied(httpx.get(f"{url}/me"), "required")
    _denied(httpx.get(f"{url}/me", headers={"Authorization": _token()}), "required")  # no prefix
    _denied(httpx.get(url, headers={"Authorization": "Bearer not.a.jwt"}), "malformed")
    _denied(
        httpx.get(url, headers={"Authorization": f"Bearer {_token(OTHER_KEY)}"}),
        "cannot be verified",
    )
    expired = _token(exp=int(time.time()) - 10)
    _denied(httpx.get(url, headers={"Authorization": f"Bearer {expired}"}), "expired")
    early = _token(nbf=int(time.time()) + 600)
    _denied(httpx.get(url, headers={"Authorization": f"Bearer {early}"}), "not valid yet")
    _denied(httpx.get(url, headers={"Authorization": f"Bearer {_token(kid='k9')}"}), "no key")
    # a token may not pick another algorithm (HMAC keyed with the public key, or none)
    hs = _forged_hs256(
        KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    _denied(httpx.get(url, headers={"Authorization": f"Bearer {hs}"}), "no key")
    unsigned = jwt.encode({"uid": "x"}, "", algorithm="none")
    _denied(httpx.get(url, headers={"Authorization": f"Bearer {unsigned}"}), "no key")
    # a key without kid verifies tokens with or without one
    create_function(fc, "jw-nokid", code=code_of(HTTP_ECHO_PY))
    nokid = {k: v for k, v in _jwk().items() if k != "kid"}
    plain = _trigger(fc, "jw-nokid", _auth_config(jwks={"keys": [nokid]}))
    assert _seen(httpx.get(plain, params={"token": _token(kid=None)}))["query"]["role"] == "admin"


def test_whitelist_blacklist_and_list_forms(fc: Client) -> None:
    create_function(fc, "jw-white", code=code_of(HTTP_ECHO_PY))
    white = _trigger(
        fc,
        "jw-white",
        {
            "jwks": {"keys": [_jwk()]},
            "tokenLookup": [{"readPosition": "cookie", "parameterName": "jwt"}],
            "claimPassBy": [
                {
                    "claimName": "uid",
                    "mappingParameterName": "user",
                    "mappingParameterPosition": "cookie",
                },
                {"mappingParameterName": "role", "mappingParameterPosition": "header"},
            ],
            "whitelist": ["/public/*", "/health"],
        },
    )
    assert _seen(httpx.get(f"{white}/public/a/b"))["headers"].get("role") is None
    _seen(httpx.get(f"{white}/health"))
    _denied(httpx.get(f"{white}/health/deep"), "required")
    _denied(httpx.get(f"{white}/private"), "required")
    seen = _seen(httpx.get(f"{white}/private", headers={"Cookie": f"jwt={_token()}; a=1"}))
    assert "user=u-42" in seen["headers"]["cookie"]
    assert "a=1" in seen["headers"]["cookie"]
    assert seen["headers"]["role"] == "admin"

    create_function(fc, "jw-black", code=code_of(HTTP_ECHO_PY))
    black = _trigger(fc, "jw-black", _auth_config(blackList=["/admin", "/ops/*"]))
    _seen(httpx.get(f"{black}/anything"))
    _denied(httpx.get(f"{black}/admin"), "required")
    _denied(httpx.get(f"{black}/ops/x"), "required")
    ok = httpx.post(
        f"{black}/admin",
        content=b"form=1",
        headers={"Authorization": f"Bearer {_token()}"},
    )
    assert _seen(ok)["headers"]["x-uid"] == "u-42"


def _refused(call: Any) -> str:
    with pytest.raises(ClientException) as exc:
        call()
    assert (exc.value.status_code, exc.value.code) == (400, "InvalidArgument")
    return str(exc.value.message)


def test_bad_jwt_configs_are_refused(fc: Client) -> None:
    create_function(fc, "jw-bad")
    bad_key = {**_jwk(), "n": "not-base64url!"}
    for config, says in (
        (None, "authConfig"),
        (_auth_config(jwks={"keys": []}), "jwks.keys"),
        (_auth_config(jwks={"keys": [bad_key]}), "not a usable"),
        (_auth_config(jwks={"keys": [{**_jwk(), "use": "enc"}]}), "use"),
        (_auth_config(tokenLookup="body:token"), "tokenLookup"),
        (_auth_config(tokenLookup=None), "tokenLookup"),
        (_auth_config(claimPassBy="path:uid:x"), "claimPassBy"),
        (_auth_config(whitelist=["/a"], blacklist=["/b"]), "together"),
        (_auth_config(whitelist="/a"), "whitelist"),
    ):
        assert says in _refused(lambda c=config: _trigger(fc, "jw-bad", c))
    assert "authType" in _refused(lambda: _trigger(fc, "jw-bad", None, auth_type="oauth"))


def test_custom_domain_routes_honour_jwt(fc: Client, emulator: EmbeddedEmulator) -> None:
    create_function(fc, "jw-dom", code=code_of(HTTP_ECHO_PY))
    _trigger(fc, "jw-dom", _auth_config())
    create_function(fc, "open-dom", code=code_of(HTTP_ECHO_PY))
    _trigger(fc, "open-dom", None, auth_type="anonymous")
    for domain, fn, auth in (
        ("jwt.example.com", "jw-dom", None),
        (
            "locked.example.com",
            "open-dom",
            m.AuthConfig(auth_type="jwt", auth_info=json.dumps(_auth_config())),
        ),
    ):
        fc.create_custom_domain(
            m.CreateCustomDomainRequest(
                body=m.CreateCustomDomainInput(
                    domain_name=domain,
                    auth_config=auth,
                    route_config=m.RouteConfig(routes=[m.PathConfig(path="/*", function_name=fn)]),
                )
            )
        )
        _denied(httpx.get(f"{emulator.url}/x", headers={"Host": domain}), "required")
        headers = {"Host": domain, "Authorization": f"Bearer {_token()}"}
        seen = _seen(httpx.get(f"{emulator.url}/x", headers=headers))
        assert (seen["function"], seen["headers"]["x-uid"]) == (fn, "u-42")
