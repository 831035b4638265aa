"""Server-side verification of ACS3-HMAC-SHA256 request signatures, as the official SDK signs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote

from service.emulator.credentials import role_secret
from service.emulator.errors import FCError

ALGORITHM = "ACS3-HMAC-SHA256"

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your access key and signing method."
)


def _denied(code: str, message: str) -> FCError:
    return FCError(403, code, message)


def canonical_query(raw_query: str) -> str:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    pairs.sort(key=lambda kv: kv[0])
    return "&".join(f"{k}={quote(v, safe='~')}" for k, v in pairs)


def string_to_sign(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    header_block = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers)
    canonical = "\n".join(
        [
            method.upper(),
            raw_path,
            canonical_query(raw_query),
            header_block,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def sign(secret: str, to_sign: str) -> str:
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """Split ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _denied("AccessDenied", f"unsupported signature algorithm {algorithm!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    try:
        return (
            fields["Credential"],
            [h for h in fields["SignedHeaders"].split(";") if h],
            fields["Signature"],
        )
    except KeyError as exc:
        raise _denied("AccessDenied", f"Authorization header lacks {exc.args[0]}") from None


def verify(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    access_keys: Mapping[str, str],
    temporary: bool = False,
) -> str:
    """Check a request's signature; return the access key id or raise a 403 FCError.

    ``headers`` must be keyed by lower-case names. ``temporary``: also accept the
    role credentials this emulator hands functions (with their security token).
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise _denied("AccessDenied", "The request is not signed: missing Authorization header.")
    access_key_id, signed_headers, signature = parse_authorization(authorization)
    secret = access_keys.get(access_key_id)
    role = role_secret(access_keys, access_key_id) if temporary and secret is None else None
    if role is not None:
        secret, token = role
        if not hmac.compare_digest(headers.get("x-acs-security-token", ""), token):
            raise _denied("InvalidSecurityToken", "The security token is missing or not valid.")
    if secret is None:
        raise _denied("InvalidAccessKeyID", f"Access key '{access_key_id}' does not exist.")
    payload_hash = headers.get("x-acs-content-sha256", "")
    if payload_hash != hashlib.sha256(body).hexdigest():
        raise _denied("SignatureNotMatch", "x-acs-content-sha256 does not match the body.")
    lowered = [h.lower() for h in signed_headers]
    if lowered != sorted(lowered):
        raise _denied("SignatureNotMatch", "SignedHeaders must be lower-case and sorted.")
    if "host" not in lowered or "x-acs-content-sha256" not in lowered:
        raise _denied("SignatureNotMatch", "host and x-acs-content-sha256 must be signed.")
    to_sign = string_to_sign(method, raw_path, raw_query, headers, lowered, payload_hash)
    if not hmac.compare_digest(sign(secret, to_sign), signature):
        raise _denied("SignatureNotMatch", _MISMATCH)
    return access_key_id
