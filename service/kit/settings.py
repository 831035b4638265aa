"""Settings from `FCPLANE_*` environment variables (and matching CLI options)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.auth.tokens import is_well_formed

MIN_SECRET_KEY_LENGTH = 32
# Values people paste from examples; refusing them outside development is the
# whole point of requiring a key.
_PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev", "development", "fcplane"}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FCPLANE_", extra="ignore", frozen=True)

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development (embedded defaults allowed) or production (secrets required).",
    )
    data_dir: Path = Field(
        Path("./fcplane-data"),
        description="Directory for the SQLite database, generated keys and stored reports.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL (postgresql+asyncpg://... or sqlite+aiosqlite:///...); "
        "default: a SQLite file in the data directory.",
    )
    database_pool_size: int = Field(
        20, ge=1, le=500, description="Database connections each process keeps open."
    )
    token_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="How long a verified token is reused without a database lookup; a token "
        "revoked through another API replica stops working within this time. 0 disables.",
    )
    redis_url: str | None = Field(
        None, description="Redis URL for the job queue; unset: jobs run in-process."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that encrypts account secrets at rest (>= 32 characters). Required "
        "outside development; in development one is generated into the data directory.",
    )
    host: str = Field("127.0.0.1", description="Address the API binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API binds to.")
    log_level: LogLevel = Field(LogLevel.INFO, description="Log level.")
    bootstrap_token: SecretStr | None = Field(
        None,
        description="Admin token to create on first start instead of a generated one.",
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host names and CIDR ranges webhooks may target even "
        "though they are private, loopback or link-local.",
    )

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("secret_key", "bootstrap_token", "database_url", "redis_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `FCPLANE_SECRET_KEY=` in an env file means "not set", not "the empty key".
        return None if value == "" else value

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if len(raw) < MIN_SECRET_KEY_LENGTH or raw.lower() in _PLACEHOLDER_KEYS:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY_LENGTH} characters of random data "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @field_validator("bootstrap_token")
    @classmethod
    def _usable_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_well_formed(value.get_secret_value()):
            raise ValueError("must be 32-512 characters of A-Z a-z 0-9 . _ ~ + / - (token68)")
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION and self.secret_key is None:
            raise ValueError(
                "FCPLANE_SECRET_KEY is required when FCPLANE_ENVIRONMENT=production; "
                "refusing to start without it"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fcplane.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
