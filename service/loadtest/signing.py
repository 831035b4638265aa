"""ACS3-HMAC-SHA256 request signing for load generators, with the SDK's own signer.

Stress and concurrency-eval requests go straight to FC over HTTP (InvokeFunction
or an ``authType: function`` HTTP trigger), so they must be signed exactly as
the SDK signs its API calls. This module only imports the SDK's utilities (no
asyncio, no gevent), so both the asyncio process and Locust children use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

from alibabacloud_tea_openapi.utils import Utils

API_VERSION = "2023-03-30"
ALGORITHM = "ACS3-HMAC-SHA256"


@dataclass(frozen=True)
class SigningKey:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None


def sign(
    method: str,
    url: str,
    body: bytes,
    key: SigningKey,
    headers: dict[str, str] | None = None,
    action: str = "InvokeFunction",
) -> dict[str, str]:
    """The headers to send with ``method url`` and ``body``; ``headers`` are signed too
    when they are ``x-acs-*``, ``host`` or ``content-type``."""
    parts = urlsplit(url)
    signed = {
        **{k.lower(): v for k, v in (headers or {}).items()},
        "host": parts.netloc,
        "x-acs-version": API_VERSION,
        "x-acs-action": action,
        "x-acs-date": Utils.get_timestamp(),
        "x-acs-signature-nonce": Utils.get_nonce(),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if key.security_token:
        signed["x-acs-accesskey-id"] = key.access_key_id
        signed["x-acs-security-token"] = key.security_token
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    request = SimpleNamespace(
        method=method.upper(), pathname=parts.path or "/", query=query, headers=signed
    )
    signed["authorization"] = Utils.get_authorization(
        request,
        ALGORITHM,
        signed["x-acs-content-sha256"],
        key.access_key_id,
        key.access_key_secret,
    )
    return signed


def invoke_url(endpoint: str, function: str, qualifier: str | None = None) -> str:
    """InvokeFunction's URL; ``endpoint`` is ``scheme://host[:port]``."""
    from urllib.parse import quote

    url = f"{endpoint.rstrip('/')}/{API_VERSION}/functions/{quote(function, safe='')}/invocations"
    return f"{url}?qualifier={quote(qualifier, safe='')}" if qualifier else url
