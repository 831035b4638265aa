"""Settings from `FCPLANE_*` environment variables (and matching CLI options)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.kit.token68 import is_token68

MIN_SECRET_KEY_LENGTH = 32
# Values people paste from examples; refusing them outside development is the
# whole point of requiring a key.
_PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev", "development", "fcplane"}
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "placeholder", "your-secret")


def weak_secret(raw: str, min_length: int = MIN_SECRET_KEY_LENGTH) -> str | None:
    """Why ``raw`` is no secret (too short, a placeholder, one repeated unit); None if fine.

    The one rule for fcplane's own start-up secrets: FCPLANE_SECRET_KEY and
    FCPLANE_BOOTSTRAP_TOKEN. Never includes the value itself.
    """
    if len(raw) < min_length:
        return f"shorter than {min_length} characters"
    lowered = raw.lower()
    if lowered in _PLACEHOLDER_KEYS or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "a placeholder value"
    for unit in range(1, 5):  # "aaaa...", "abab...", "12341234..."
        if raw == (raw[:unit] * (len(raw) // unit + 1))[: len(raw)]:
            return "one character or short pattern repeated"
    return None


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


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
    code_package_max_bytes: int = Field(
        100 * 1024 * 1024, ge=1024, description="Largest code zip accepted (bytes)."
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body of every endpoint but code uploads (JSON), enforced "
        "while the body streams in, before it is parsed or authenticated: larger bodies get 413.",
    )
    deploy_lease_seconds: float = Field(
        300.0,
        gt=0,
        le=86400,
        description="How long a deploy may hold a function; after that a crashed deploy's "
        "claim expires and its change shows up as drift.",
    )
    drift_scan_interval_seconds: float = Field(
        600.0, ge=0, description="Scheduled drift scan interval; 0 turns the schedule off."
    )
    drift_scan_concurrency: int = Field(
        8, ge=1, le=256, description="Functions checked at once by a drift scan."
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
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="text: one plain line per record; json: one JSON object per line "
        "(python-json-logger). Both carry the record's request id.",
    )
    metrics_enabled: bool = Field(
        True,
        description="Serve Prometheus metrics at /metrics and measure every request for them.",
    )
    metrics_public: bool = Field(
        False,
        description="Serve /metrics without a token (e.g. on a private network); by default a "
        "scrape needs a token with the read scope.",
    )
    bootstrap_token: SecretStr | None = Field(
        None,
        description="Admin token to create on first start instead of a generated one.",
    )
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host names and CIDR ranges webhooks may target even "
        "though they are private, loopback or link-local.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL clients reach the API at (https://fcplane.example.com), used for "
        "links in notifications; default: http://HOST:PORT.",
    )
    report_link_ttl_seconds: int = Field(
        7 * 24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="How long the signed report link in a job.finished notification works.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="How long one webhook delivery attempt may take."
    )
    webhook_max_attempts: int = Field(
        16,
        ge=1,
        le=50,
        description="Attempts per delivery before it is given up (with the backoff defaults, "
        "about 7 hours of retries).",
    )
    webhook_backoff_base_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Delay before the first retry; each further retry doubles it, with jitter.",
    )
    webhook_backoff_max_seconds: float = Field(
        3600.0,
        gt=0,
        le=86400,
        description="Longest backoff between two attempts (a receiver's Retry-After may ask "
        "for more, up to an hour).",
    )
    webhook_secret_grace_seconds: int = Field(
        86400,
        ge=0,
        le=30 * 86400,
        description="After a secret rotation, how long deliveries are also signed with the old "
        "secret (default 24 hours).",
    )
    webhook_poll_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often an idle webhook dispatcher looks for due deliveries.",
    )
    webhook_concurrency: int = Field(
        16, ge=1, le=256, description="Webhook requests one dispatcher sends at the same time."
    )
    webhook_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Delivered and given-up webhook events are deleted, with their delivery "
        "log, after this many days.",
    )
    redis_queue_name: str = Field(
        "arq:queue",
        min_length=1,
        max_length=200,
        description="Redis key of the job queue the API and the workers share; installations "
        "sharing one Redis need different names.",
    )
    job_lease_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How long a running job stays claimed without a heartbeat; a job whose "
        "worker died is retried (or failed) once its lease has expired.",
    )
    job_heartbeat_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="How often a running job renews its lease and reads cancel requests "
        "(at most a third of the lease is used).",
    )
    job_max_attempts: int = Field(
        2,
        ge=1,
        le=10,
        description="Attempts a job gets when its worker dies; after the last it is failed.",
    )
    job_max_concurrent: int = Field(
        2,
        ge=1,
        le=64,
        description="Jobs the API runs at the same time when there is no Redis (in-process "
        "jobs); further jobs wait in the queue.",
    )
    job_sweep_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="How often the sweeper looks for jobs whose lease expired or that never "
        "reached a worker.",
    )
    job_cancel_grace_seconds: float = Field(
        5.0,
        ge=0,
        le=600,
        description="After a cancel request, how long a job may take to stop on its own "
        "before it is interrupted.",
    )

    # -- stress and eval jobs (service/loadtest, service/evals) --------------
    price_per_cu: float = Field(
        0.000020,
        ge=0,
        description="Price of one FC compute unit (CU) in the currency eval reports show "
        "(default: FC's first pay-as-you-go tier, USD 0.000020).",
    )
    price_currency: str = Field(
        "USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the currency `price_per_cu` is in (shown on eval costs).",
    )
    cu_per_vcpu_second: float = Field(1.0, ge=0, description="CUs FC bills per active vCPU-second.")
    cu_per_gb_second: float = Field(0.15, ge=0, description="CUs FC bills per GB-second of memory.")
    cu_per_disk_gb_second: float = Field(
        0.05, ge=0, description="CUs FC bills per GB-second of disk above the free 512 MB."
    )
    cu_per_10k_invocations: float = Field(
        75.0, ge=0, description="CUs FC bills per 10,000 invocations."
    )
    stress_max_users: int = Field(
        2000, ge=1, le=100_000, description="Most simulated users a stress job may ask for."
    )
    stress_max_rps: float = Field(
        10_000.0,
        gt=0,
        le=1_000_000,
        description="Highest target requests/s of an open-loop stress job.",
    )
    job_max_duration_seconds: float = Field(
        3600.0,
        gt=0,
        le=86400,
        description="Longest load a stress job, or one concurrency-eval step, may run for.",
    )
    eval_max_invocations: int = Field(
        1000, ge=1, le=100_000, description="Most measured invocations per spec of a spec eval."
    )
    eval_max_specs: int = Field(20, ge=1, le=200, description="Most specs one spec eval may try.")
    eval_max_concurrency: int = Field(
        200, ge=1, le=1000, description="Highest instance concurrency a concurrency eval may try."
    )
    locust_processes: int = Field(
        1,
        ge=1,
        le=256,
        description="Load-generating processes one stress job may use (Locust --processes; "
        "capped at the machine's cores); 1 runs Locust in a single process.",
    )

    # -- build jobs (service/build) ----------------------------------------------
    build_timeout_seconds: float = Field(
        300.0, gt=0, le=86400, description="Longest a build may take (all its steps)."
    )
    build_memory_mb: int = Field(
        2048, ge=256, le=1024 * 1024, description="Memory of a build's sandbox (MB)."
    )
    build_max_output_bytes: int = Field(
        500 * 1024 * 1024,
        ge=1024 * 1024,
        description="Largest installed dependency tree, and largest built zip, of one build.",
    )
    build_max_entries: int = Field(
        100_000,
        ge=1000,
        le=10_000_000,
        description="Most files a built package may have (uploads keep their own limit).",
    )
    build_cache_dir: Path | None = Field(
        None,
        description="Build cache (results, installed dependency trees, built wheels); default "
        "<data dir>/build-cache. Never inside the emulator's data directory.",
    )

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "secret_key", "bootstrap_token", "database_url", "redis_url", "public_url", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `FCPLANE_SECRET_KEY=` in an env file means "not set", not "the empty key".
        return None if value == "" else value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        weakness = weak_secret(value.get_secret_value())
        if weakness is not None:
            raise ValueError(
                f"is {weakness}: it must be at least {MIN_SECRET_KEY_LENGTH} characters of "
                "random data (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @field_validator("bootstrap_token")
    @classmethod
    def _usable_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_token68(value.get_secret_value()):
            raise ValueError("must be 32-512 characters of A-Z a-z 0-9 . _ ~ + / - (token68)")
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION and self.secret_key is None:
            raise ValueError(
                "FCPLANE_SECRET_KEY is required when FCPLANE_ENVIRONMENT=production; "
                "refusing to start without it"
            )
        weakness = self.bootstrap_token_weakness
        if self.environment is Environment.PRODUCTION and weakness is not None:
            raise ValueError(
                f"FCPLANE_BOOTSTRAP_TOKEN is {weakness}; refusing to start in production "
                "with a guessable admin token"
            )
        return self

    @model_validator(mode="after")
    def _build_dirs_apart_from_the_emulator(self) -> Settings:
        # The emulator serves code from its data dir; build scratch never goes there.
        emulator = self.emulator_data_dir.resolve()
        for path in (self.resolved_build_cache_dir, self.build_work_dir):
            if path.resolve().is_relative_to(emulator):
                raise ValueError(
                    f"FCPLANE_BUILD_CACHE_DIR ({path}) must not be inside the emulator's data "
                    f"directory ({emulator})"
                )
        return self

    @property
    def emulator_data_dir(self) -> Path:
        """Where `fcplane serve`'s embedded emulator keeps its state and code."""
        return self.data_dir / "emulator"

    @property
    def resolved_build_cache_dir(self) -> Path:
        return self.build_cache_dir or self.data_dir / "build-cache"

    @property
    def build_work_dir(self) -> Path:
        """Scratch directories of running builds (removed after each) and sandbox identity."""
        return self.data_dir / "build-work"

    @property
    def bootstrap_token_weakness(self) -> str | None:
        """Why the configured bootstrap token is weak (the secret key's rule), or None."""
        if self.bootstrap_token is None:
            return None
        return weak_secret(self.bootstrap_token.get_secret_value())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fcplane.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
