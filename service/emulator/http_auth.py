"""Which authentication a request through an HTTP trigger or a custom domain needs.

An HTTP trigger names it in its ``triggerConfig`` (``authType`` and, for jwt,
``authConfig``); a custom domain in its ``authConfig`` (``authType`` and, for
jwt, ``authInfo``: the same JWT configuration as a JSON string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from service.emulator.errors import invalid
from service.emulator.jwt_auth import JwtConfig, parse_jwt_config

AUTH_TYPES = ("anonymous", "function", "jwt")


@dataclass(frozen=True)
class HttpAuth:
    auth_type: str  # anonymous | function | jwt
    jwt: JwtConfig | None = None


ANONYMOUS = HttpAuth("anonymous")


def trigger_auth(cfg: dict[str, Any]) -> HttpAuth:
    """From a parsed HTTP ``triggerConfig`` (FC's default authType is function)."""
    auth_type = cfg.get("authType", "function")
    if auth_type not in AUTH_TYPES:
        raise invalid(
            f"triggerConfig.authType {auth_type!r} is invalid: one of {', '.join(AUTH_TYPES)}"
        )
    if auth_type == "jwt":
        return HttpAuth(auth_type, parse_jwt_config(cfg.get("authConfig")))
    return HttpAuth(auth_type)


def domain_auth(auth_config: object) -> HttpAuth:
    """From a custom domain's ``authConfig`` ``{authType, authInfo}`` (absent: anonymous)."""
    if auth_config is None:
        return ANONYMOUS
    if not isinstance(auth_config, dict):
        raise invalid("authConfig must be an object {authType, authInfo}")
    unknown = sorted(set(auth_config) - {"authType", "authInfo"})
    if unknown:
        raise invalid(f"unknown field(s) in authConfig: {', '.join(unknown)}")
    auth_type = auth_config.get("authType", "anonymous")
    if auth_type not in AUTH_TYPES:
        allowed = ", ".join(AUTH_TYPES)
        raise invalid(f"authConfig.authType {auth_type!r} is invalid: one of {allowed}")
    info = auth_config.get("authInfo")
    if info is not None and not isinstance(info, str):
        raise invalid("authConfig.authInfo must be a string (JSON for jwt)")
    if auth_type != "jwt":
        return HttpAuth(auth_type)
    try:
        parsed = json.loads(info or "")
    except ValueError:
        raise invalid("authConfig.authInfo must be the JWT configuration as JSON text") from None
    return HttpAuth(auth_type, parse_jwt_config(parsed, where="authConfig.authInfo"))
