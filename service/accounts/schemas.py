from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

Alias = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Unique name: lower-case letters, digits, _ and -.",
    ),
]
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
    """`host[:port]` (HTTPS) or `http(s)://host[:port]`, stored with its scheme."""
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
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


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
    alias: str
    account_id: str
    region: str
    endpoint: str
    access_key_id: str = Field(description="Masked; the secret is never returned.")
    has_security_token: bool
    default: bool
    created_at: datetime
    updated_at: datetime


def mask_key_id(key_id: str) -> str:
    if len(key_id) >= 12:
        return f"{key_id[:4]}****{key_id[-4:]}"
    return "****"
