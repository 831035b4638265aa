"""The contract between the emulator's API layer and its runtime.

The API layer (``service.emulator`` routes and store) owns FC resources and
turns a request into a :class:`FunctionSpec` snapshot plus an invocation; the
runtime (``service.emulator.runtime``) owns OS processes and knows nothing of
HTTP routing, signatures or persistence. Keeping the seam this narrow is what
lets the two halves be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class CustomRuntime:
    command: list[str]
    args: list[str]
    port: int = 9000
    health_check_url: str | None = None


@dataclass(frozen=True)
class TemporaryCredentials:
    """What a function with a ``role`` gets (fake, local: see service.emulator.credentials)."""

    access_key_id: str
    access_key_secret: str
    security_token: str

    def __repr__(self) -> str:
        return f"TemporaryCredentials(access_key_id={self.access_key_id!r})"


@dataclass(frozen=True)
class FunctionSpec:
    """Everything needed to run one function at one qualifier (frozen config)."""

    name: str
    qualifier: str  # "LATEST", a version id or an alias name (as invoked)
    version_id: str | None  # the resolved version, None for LATEST
    runtime: str  # python3.9 | python3.10 | python3.12 | custom.debian10/11/12 | custom-container
    handler: str
    timeout_s: int
    memory_mb: int
    cpu: float
    disk_mb: int
    instance_concurrency: int
    environment: dict[str, str]
    code_zip: Path  # content-addressed zip in the data dir
    code_checksum: str  # CRC-64/XZ, unsigned decimal
    layer_zips: tuple[Path, ...] = ()  # in the function's order; first listed wins
    custom_runtime: CustomRuntime | None = None
    initializer: str | None = None
    initializer_timeout_s: int = 3
    pre_stop: str | None = None
    pre_stop_timeout_s: int = 3
    region: str = "cn-hangzhou"
    account_id: str = "1234567890"
    reserved_concurrency: int | None = None  # None: no reservation; 0 blocks all
    internet_access: bool = True
    credentials: TemporaryCredentials | None = None  # set when the function has a role


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    log_tail: bool = False


@dataclass(frozen=True)
class HttpRequest:
    """A request that arrived through an HTTP trigger."""

    request_id: str
    method: str
    raw_path: str  # URL-encoded path after the trigger prefix, starting with "/"
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    domain_name: str


@dataclass
class InvokeResult:
    """What came back; for HTTP-trigger calls ``status``/``headers`` are the function's."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    error_type: str | None = None  # FC's x-fc-error-type, None on success
    duration_ms: float = 0.0
    max_memory_mb: float = 0.0
    instance_id: str = ""
    cold_start: bool = False
    log: bytes = b""  # this request's log lines, for Tail logs and the admin API


@dataclass(frozen=True)
class InstanceInfo:
    instance_id: str
    function_name: str
    qualifier: str
    version_id: str | None
    pid: int
    busy: int  # requests in flight
    started_at: float
    last_used_at: float
    interpreter: str  # e.g. "local python 3.11.7 (/usr/bin/python3)" — honest about what runs
    provisioned: bool = False  # kept by a provision config (else started on demand)


class Throttled(Exception):
    """No instance may be started: reserved concurrency or the account limit is reached."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Runtime(Protocol):
    async def invoke(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult: ...

    async def invoke_http(self, spec: FunctionSpec, request: HttpRequest) -> InvokeResult: ...

    async def set_provisioned(self, spec: FunctionSpec, target: int) -> None: ...

    def instances(self, function_name: str | None = None) -> list[InstanceInfo]: ...

    async def drop_function(self, function_name: str) -> None:
        """Stop every instance of a function (deleted or its code/config changed)."""
        ...

    def limits_mechanism(self) -> dict[str, str]:
        """Which mechanism enforces cpu/memory/timeout, e.g. {"cpu": "cgroup-v1", ...}."""
        ...

    def sandbox_status(self) -> dict[str, object]:
        """``{"enabled": bool, "mode": "bubblewrap"|"unsafe-no-sandbox"|"unavailable", ...}``."""
        ...

    async def close(self) -> None: ...
