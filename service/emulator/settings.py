"""Emulator settings, shared by the CLI, the embedded server and tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from service.emulator.codepkg import CodeLimits

# The documented development key pair: fine on loopback, never for anything real.
DEV_ACCESS_KEY_ID = "fcplane-dev"
DEV_ACCESS_KEY_SECRET = "fcplane-dev-secret"
ACCESS_KEYS_ENV = "FCPLANE_EMULATOR_ACCESS_KEYS"
UNSAFE_NO_SANDBOX_ENV = "FCPLANE_EMULATOR_UNSAFE_NO_SANDBOX"
_TRUE = {"1", "true", "yes", "on"}


def unsafe_from_env() -> bool:
    return os.environ.get(UNSAFE_NO_SANDBOX_ENV, "").strip().lower() in _TRUE


@dataclass
class EmulatorSettings:
    data_dir: Path
    # None turns signature checks off (``--no-auth``).
    access_keys: dict[str, str] | None = field(
        default_factory=lambda: {DEV_ACCESS_KEY_ID: DEV_ACCESS_KEY_SECRET}
    )
    region: str = "cn-hangzhou"
    account_id: str = "1234567890"
    account_instance_limit: int = 100
    idle_timeout_s: float = 300.0
    code_limits: CodeLimits = field(default_factory=CodeLimits)
    # Base URL for trigger and code-download URLs; None: taken from each request's Host.
    public_url: str | None = None
    max_async_retry_backoff_s: float = 1.0
    # Run function code without the bubblewrap sandbox (never the default).
    unsafe_no_sandbox: bool = field(default_factory=lambda: unsafe_from_env())
    # How long a custom runtime's server may take to listen (FC: 120 s).
    custom_runtime_startup_timeout_s: float = 120.0


def parse_access_keys(pairs: list[str]) -> dict[str, str]:
    """``["AK:SECRET", ...]`` (or one comma-separated string) into a dict."""
    keys: dict[str, str] = {}
    for item in pairs:
        for pair in item.split(","):
            pair = pair.strip()
            if not pair:
                continue
            ak, sep, secret = pair.partition(":")
            if not sep or not ak or not secret:
                raise ValueError(f"access key {pair!r} is not AK:SECRET")
            keys[ak] = secret
    return keys


def access_keys_from_env() -> dict[str, str]:
    raw = os.environ.get(ACCESS_KEYS_ENV, "")
    return parse_access_keys([raw]) if raw.strip() else {DEV_ACCESS_KEY_ID: DEV_ACCESS_KEY_SECRET}
