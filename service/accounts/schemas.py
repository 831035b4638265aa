from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

import idna
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from service.kit.names import account_alias

Alias = Annotated[str, account_alias(Field, "Unique name: lower-case letters, digits, _ and -.")]
AccountId = Annotated[
    str,
    Field(
        min_length=4,
        max_length=32,
        pattern=r"^[0-9]+$",
        description="Alibaba Cloud account (UID), digits.",
    ),
]
Region = Annotated[
    str,
    Field(
        min_length=4,
        max_length=32,
        pattern=r"^[a-z]{2,}(-[a-z0-9]+)+$",
        examples=["cn-hangzhou"],
        description="FC region id.",
    ),
]
AccessKeyId = Annotated[str, Field(min_length=3, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]
AccessKeySecret = Annotated[SecretStr, Field(min_length=1, max_length=256)]
SecurityToken = Annotated[SecretStr, Field(min_length=1, max_length=8192)]


def _endpoint(value: str) -> str:
    """`http(s)://host[:port]` (or `host[:port]`, meaning HTTPS), stored with its scheme.

    The host is an IP literal or a name valid under IDNA 2008 (stored as its
    ASCII form): a junk host would otherwise be accepted here and then make
    every operation on the account fail with 502.
    """
    candidate = value if "://" in value else f"https://{value}"
    parts = urlsplit(candidate)
    if parts.scheme not in {"http", "https"}:
        raise ValueError("scheme must be http or https")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("port must be a number between 1 and 65535") from None
    if not parts.hostname or parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError("must be host[:port] or http(s)://host[:port] without a path")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials")
    host = _host(parts.hostname)
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _host(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if any(ch.isspace() or ord(ch) < 32 for ch in name):
        raise ValueError("host must not contain whitespace or control characters")
    try:
        encoded = idna.encode(name.rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"host is not a valid host name ({exc})") from None
    if len(encoded) > 253:
        raise ValueError("host is longer than 253 characters")
    return encoded


Endpoint = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_endpoint)]


def default_endpoint(account_id: str, region: str) -> str:
    return f"https://{account_id}.{region}.fc.aliyuncs.com"


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: Alias
    account_id: AccountId
    region: Region
    endpoint: Endpoint | None = Field(
        None, description="Default: the public FC endpoint of the account and region."
    )
    access_key_id: AccessKeyId
    access_key_secret: AccessKeySecret
    security_token: SecurityToken | None = Field(None, description="STS token, if temporary.")
    default: bool = Field(False, description="Make this the default account.")


class AccountUpdate(BaseModel):
    """Fields to change; omitted fields stay. `security_token: null` removes the STS token."""

    model_config = ConfigDict(extra="forbid")

    alias: Alias | None = None
    account_id: AccountId | None = None
    region: Region | None = None
    endpoint: Endpoint | None = None
    access_key_id: AccessKeyId | None = None
    access_key_secret: AccessKeySecret | None = None
    security_token: SecurityToken | None = None
    default: bool | None = None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alias: str
    account_id: str
    region: str
    endpoint: str
    access_key_id: str = Field(description="Masked; the secret is never returned.")
    has_security_token: bool
    default: bool = Field(validation_alias="is_default")
    created_at: datetime
    updated_at: datetime

    @field_validator("access_key_id")
    @classmethod
    def _masked(cls, key_id: str) -> str:
        return mask_key_id(key_id)


def mask_key_id(key_id: str) -> str:
    if len(key_id) >= 12:
        return f"{key_id[:4]}****{key_id[-4:]}"
    return "****"
