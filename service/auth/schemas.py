from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Scope(StrEnum):
    READ = "read"
    DEPLOY = "deploy"
    ADMIN = "admin"


MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._@-]*$",
        description="Who or what uses the token; recorded as the author of changes.",
    )
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=3,
        description="read < deploy < admin; a scope implies the ones below it.",
    )
    expires_in: int | None = Field(
        None, ge=60, le=MAX_EXPIRES_IN, description="Lifetime in seconds; omitted: never expires."
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    scopes: list[Scope]
    prefix: str = Field(description="First characters of the token, to tell tokens apart.")
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token. Shown only in this response.")
