"""JWT authentication for HTTP triggers and custom domains (``authType: jwt``).

The trigger's ``authConfig`` (FC's shape, as Serverless Devs' fc3 writes it):

- ``jwks.keys``: public JSON Web Keys ``{kty, alg, use?, kid?, n, e}`` (RSA; EC
  and oct keys work too). Tokens are verified with PyJWT against the key whose
  ``kid`` the token names (or, without a ``kid``, every key of the token's
  ``alg``), and their ``exp``/``nbf`` are checked. The token's ``alg`` must be
  the key's: a token cannot choose a weaker algorithm.
- ``tokenLookup``: where the token is, tried in order, first found wins —
  ``"header:Authorization:Bearer ,query:token,cookie:jwt,form:token"`` or the
  list form ``[{readPosition, parameterName, prefix?}]``.
- ``claimPassBy``: claims handed to the function — ``"header:uid:x-uid"``
  (position:claim:parameter, comma-separated; ``query::`` means none) or the
  list form ``[{claimName?, mappingParameterName, mappingParameterPosition}]``
  with positions header, query, cookie and form. A passed claim replaces any
  value the client sent under that name, so it cannot be forged.
- ``whitelist`` (paths that skip auth) or ``blacklist`` (the only paths that
  need it), never both; ``/a`` matches exactly, ``/a/*`` everything under
  ``/a/``. fc3's examples spell them ``whiteList``/``blackList``; both are read.

Tokens are never logged nor echoed in errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import jwt

from service.emulator.errors import FCError, invalid
from service.emulator.fc_assumptions import JWT_FAILED

TOKEN_POSITIONS = frozenset({"header", "query", "cookie", "form"})
CLAIM_POSITIONS = frozenset({"header", "query", "cookie", "form"})
_FORM = "application/x-www-form-urlencoded"
_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
_COOKIE_SAFE = "".join(c for c in _PRINTABLE if c not in ' ";,\\')
Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class TokenSource:
    position: str
    name: str
    prefix: str = ""


@dataclass(frozen=True)
class ClaimMapping:
    position: str
    claim: str
    parameter: str


@dataclass(frozen=True)
class JwtConfig:
    keys: tuple[jwt.PyJWK, ...]
    token_lookup: tuple[TokenSource, ...]
    claim_pass_by: tuple[ClaimMapping, ...]
    whitelist: tuple[str, ...] = ()
    blacklist: tuple[str, ...] = ()


@dataclass
class HttpParts:
    """The parts of a request JWT auth reads and claim pass-by may change."""

    path: str  # URL-encoded, as the function will see it
    headers: Pairs
    query: Pairs
    body: bytes


def _paths(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise invalid(f"{what} must be a list of paths")
    return tuple(value)


def _keys(jwks: object, where: str) -> tuple[jwt.PyJWK, ...]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise invalid(f"{where}.jwks.keys must be a non-empty list of JSON Web Keys")
    parsed = []
    for i, key in enumerate(keys):
        at = f"{where}.jwks.keys[{i}]"
        if not isinstance(key, dict) or not all(
            isinstance(key.get(f), str) and key.get(f) for f in ("kty", "alg")
        ):
            raise invalid(f"{at} needs string kty and alg (e.g. RSA, RS256)")
        if key.get("use", "sig") != "sig":
            raise invalid(f"{at}.use must be 'sig'")
        try:
            parsed.append(jwt.PyJWK(key))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise invalid(f"{at} is not a usable {key['alg']} key: {exc}") from None
    return tuple(parsed)


def _token_lookup(value: object, where: str) -> tuple[TokenSource, ...]:
    items: list[tuple[str, str, str]] = []
    if isinstance(value, str):
        for part in value.split(","):
            position, _, rest = part.partition(":")
            name, _, prefix = rest.partition(":")
            items.append((position.strip(), name.strip(), prefix))
    elif isinstance(value, list) and all(isinstance(i, dict) for i in value):
        for item in value:
            prefix = item.get("prefix") or ""
            if not isinstance(prefix, str):
                raise invalid(f"{where}.tokenLookup prefix must be a string")
            items.append((item.get("readPosition"), item.get("parameterName"), prefix))
    else:
        raise invalid(
            f"{where}.tokenLookup is required: a string like 'header:Authorization:Bearer ' "
            "or a list of {readPosition, parameterName, prefix}"
        )
    sources = []
    for position, name, prefix in items:
        if position not in TOKEN_POSITIONS or not isinstance(name, str) or not name:
            raise invalid(
                f"{where}.tokenLookup entry {position}:{name} is invalid: "
                f"position one of {', '.join(sorted(TOKEN_POSITIONS))} and a parameter name"
            )
        sources.append(TokenSource(position, name, prefix if position == "header" else ""))
    if not sources:
        raise invalid(f"{where}.tokenLookup names no token position")
    return tuple(sources)


def _claim_pass_by(value: object, where: str) -> tuple[ClaimMapping, ...]:
    items: list[tuple[Any, Any, Any]] = []
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        for part in value.split(","):
            position, _, rest = part.partition(":")
            claim, _, parameter = rest.partition(":")
            items.append((position.strip(), claim.strip(), parameter.strip()))
    elif isinstance(value, list) and all(isinstance(i, dict) for i in value):
        for item in value:
            items.append(
                (
                    item.get("mappingParameterPosition"),
                    item.get("claimName") or "",
                    item.get("mappingParameterName"),
                )
            )
    else:
        raise invalid(
            f"{where}.claimPassBy must be a string like 'header:uid:x-uid' or a list of "
            "{claimName, mappingParameterName, mappingParameterPosition}"
        )
    mappings = []
    for position, claim, parameter in items:
        if position not in CLAIM_POSITIONS or not isinstance(claim, str):
            raise invalid(
                f"{where}.claimPassBy entry is invalid: position one of "
                f"{', '.join(sorted(CLAIM_POSITIONS))}"
            )
        if not parameter:
            if claim:
                raise invalid(f"{where}.claimPassBy entry for claim {claim!r} needs a name")
            continue  # "query::" — Serverless Devs' default — passes nothing
        if not isinstance(parameter, str):
            raise invalid(f"{where}.claimPassBy mappingParameterName must be a string")
        mappings.append(ClaimMapping(position, claim or parameter, parameter))
    return tuple(mappings)


def parse_jwt_config(auth_config: object, where: str = "triggerConfig.authConfig") -> JwtConfig:
    """Validate a JWT ``authConfig`` into a JwtConfig; InvalidArgument says what is wrong."""
    if not isinstance(auth_config, dict):
        raise invalid(f"{where} is required for authType jwt (jwks, tokenLookup, ...)")
    whitelist = _paths(
        auth_config.get("whitelist", auth_config.get("whiteList")), f"{where}.whitelist"
    )
    blacklist = _paths(
        auth_config.get("blacklist", auth_config.get("blackList")), f"{where}.blacklist"
    )
    if whitelist and blacklist:
        raise invalid(f"{where}: whitelist and blacklist cannot be used together")
    return JwtConfig(
        keys=_keys(auth_config.get("jwks"), where),
        token_lookup=_token_lookup(auth_config.get("tokenLookup"), where),
        claim_pass_by=_claim_pass_by(auth_config.get("claimPassBy"), where),
        whitelist=whitelist,
        blacklist=blacklist,
    )


def path_matches(path: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*"):
            if path.startswith(pattern[:-1]):
                return True
        elif path == pattern:
            return True
    return False


def _failed(message: str) -> FCError:
    return FCError(401, JWT_FAILED, message)


def _header(headers: Pairs, name: str) -> str | None:
    lower = name.lower()
    return next((v for k, v in headers if k.lower() == lower), None)


def _cookies(headers: Pairs) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for key, value in headers:
        if key.lower() == "cookie":
            try:
                jar.load(value)
            except CookieError:
                continue
    return {k: morsel.value for k, morsel in jar.items()}


def _is_form(headers: Pairs) -> bool:
    content_type = _header(headers, "content-type") or ""
    return content_type.split(";", 1)[0].strip().lower() == _FORM


def _find_token(cfg: JwtConfig, parts: HttpParts) -> str | None:
    for source in cfg.token_lookup:
        found: str | None = None
        if source.position == "header":
            value = _header(parts.headers, source.name)
            if value is not None and value.startswith(source.prefix):
                found = value[len(source.prefix) :].strip()
        elif source.position == "query":
            found = next((v for k, v in parts.query if k == source.name), None)
        elif source.position == "cookie":
            found = _cookies(parts.headers).get(source.name)
        elif _is_form(parts.headers):
            form = parse_qsl(parts.body.decode("latin-1"), keep_blank_values=True)
            found = next((v for k, v in form if k == source.name), None)
        if found:
            return found
    return None


def verify_token(cfg: JwtConfig, token: str) -> dict[str, Any]:
    """The token's claims if a configured key signed it and it is in its validity window."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _failed("the JWT is malformed") from None
    kid = header.get("kid")
    alg = header.get("alg")
    candidates = [
        k for k in cfg.keys if k.algorithm_name == alg and (kid is None or k.key_id in (kid, None))
    ]
    if not candidates:
        raise _failed(f"no key in the trigger's JWKS matches the token (alg {alg!r}, kid {kid!r})")
    error: jwt.PyJWTError | None = None
    for key in candidates:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name],
                # FC checks signature and validity window; audience and issuer are the
                # function's business.
                options={"verify_aud": False, "verify_iss": False},
            )
            return claims
        except jwt.ExpiredSignatureError:
            raise _failed("the JWT has expired") from None
        except jwt.ImmatureSignatureError:
            raise _failed("the JWT is not valid yet (nbf)") from None
        except jwt.PyJWTError as exc:
            error = exc
    raise _failed(f"the JWT cannot be verified: {type(error).__name__}")


def _claim_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _header_safe(value: str) -> str:
    """Header values stay printable ASCII: anything else (a newline in a claim, or
    non-ASCII text) is percent-encoded as UTF-8, so a claim can never split a header."""
    if all(" " <= c <= "~" for c in value) and "%" not in value:
        return value
    return quote(value, safe=_PRINTABLE)


def _pass_claims(cfg: JwtConfig, claims: dict[str, Any], parts: HttpParts) -> None:
    for mapping in cfg.claim_pass_by:
        if mapping.claim not in claims:
            continue
        value = _claim_text(claims[mapping.claim])
        name = mapping.parameter
        if mapping.position == "header":
            value = _header_safe(value)
        elif mapping.position == "cookie":
            value = quote(value, safe=_COOKIE_SAFE)  # never a second cookie from a ';'

        if mapping.position == "header":
            parts.headers = [(k, v) for k, v in parts.headers if k.lower() != name.lower()]
            parts.headers.append((name.lower(), value))
        elif mapping.position == "query":
            parts.query = [(k, v) for k, v in parts.query if k != name] + [(name, value)]
        elif mapping.position == "cookie":
            jar = _cookies(parts.headers)
            jar[name] = value
            parts.headers = [(k, v) for k, v in parts.headers if k.lower() != "cookie"]
            parts.headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in jar.items())))
        elif _is_form(parts.headers):
            form = parse_qsl(parts.body.decode("latin-1"), keep_blank_values=True)
            form = [(k, v) for k, v in form if k != name] + [(name, value)]
            parts.body = urlencode(form).encode()
            parts.headers = [(k, v) for k, v in parts.headers if k.lower() != "content-length"]


def authenticate(cfg: JwtConfig, parts: HttpParts) -> None:
    """Raise FC's 401 unless the request may pass; pass the configured claims on in ``parts``."""
    path = unquote(parts.path)
    if cfg.whitelist and path_matches(path, cfg.whitelist):
        return
    if cfg.blacklist and not path_matches(path, cfg.blacklist):
        return
    token = _find_token(cfg, parts)
    if token is None:
        raise _failed("a JWT is required and none was found where the trigger looks for it")
    _pass_claims(cfg, verify_token(cfg, token), parts)
