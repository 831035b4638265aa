"""FC's function-error shapes and per-request log lines, kept in one place.

Several of these are *unconfirmed* in FC's docs (timeout and OOM bodies, the
HTTP status of a failed HTTP-trigger call); the emulator's own refusals
(``RuntimeNotSupported``, ``SandboxUnavailable``) are distinct error types so
they are never mistaken for a function's own failure. They
live here so that correcting one is a one-line change.
"""

from __future__ import annotations

import json
import math

from .contract import InvokeResult

UNHANDLED = "UnhandledInvocationError"
# A failed HTTP-trigger call of a standard runtime answers 502 (unconfirmed).
HTTP_FUNCTION_ERROR_STATUS = 502


def error_body(message: str, error_type: str | None = None, **extra: object) -> bytes:
    body: dict[str, object] = {"errorMessage": message}
    if error_type:
        body["errorType"] = error_type
    body.update(extra)
    return json.dumps(body).encode()


def timeout_message(timeout_s: float, what: str = "Function") -> str:
    return f"{what} time out after {timeout_s:g} seconds"


def oom_message(memory_mb: int, duration_ms: float) -> str:
    return (
        f"Function ran out of memory: the instance exceeded its memory limit of "
        f"{memory_mb} MB and was stopped (duration: {duration_ms:.0f} ms)"
    )


def crash_message(duration_ms: float, max_memory_mb: float) -> str:
    return (
        f"Process exited unexpectedly before completing request "
        f"(duration: {duration_ms:.0f} ms, maxMemoryUsage: {max_memory_mb:.2f} MB)"
    )


def log_start(kind: str, request_id: str) -> bytes:
    return f"FC {kind} Start RequestId: {request_id}\n".encode()


def log_end(kind: str, request_id: str) -> bytes:
    return f"FC {kind} End RequestId: {request_id}\n".encode()


def log_summary(duration_ms: float, memory_mb: int, max_memory_mb: float) -> bytes:
    billed = max(1, math.ceil(duration_ms))
    return (
        f"Duration: {duration_ms:.2f} ms, Billed Duration: {billed} ms, "
        f"Memory Size: {memory_mb} MB, Max Memory Used: {max_memory_mb:.2f} MB\n"
    ).encode()


RUNTIME_NOT_SUPPORTED = "RuntimeNotSupported"
SANDBOX_UNAVAILABLE = "SandboxUnavailable"
# What the emulator really runs; every other FC runtime is accepted by the API
# (as FC would) but reported as not supported, at create time and at invoke time.
RUNNABLE_RUNTIMES = frozenset(
    {"python3.9", "python3.10", "python3.12", "custom", "custom.debian10", "custom.debian11"}
    | {"custom.debian12"}
)


def unsupported_reason(runtime: str) -> str | None:
    """None when the emulator can run ``runtime``; else the one-line reason."""
    if runtime in RUNNABLE_RUNTIMES:
        return None
    message = f"runtime {runtime} is not supported by the local emulator"
    if runtime == "custom-container":
        message += (
            ": container images are not pulled or run locally; use a custom.debian runtime "
            "with the same command to run the server as a local process"
        )
    return message


def not_supported(runtime: str) -> InvokeResult:
    message = unsupported_reason(runtime) or f"runtime {runtime} is not supported"
    return InvokeResult(
        status=200,
        body=error_body(message, RUNTIME_NOT_SUPPORTED),
        error_type=RUNTIME_NOT_SUPPORTED,
    )


def sandbox_refused(reason: str) -> InvokeResult:
    message = (
        f"the local emulator refuses to run function code without its sandbox: {reason}. "
        "Install bubblewrap, or start the emulator with --unsafe-no-sandbox to run code "
        "unisolated"
    )
    return InvokeResult(
        status=200, body=error_body(message, SANDBOX_UNAVAILABLE), error_type=SANDBOX_UNAVAILABLE
    )
