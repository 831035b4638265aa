"""What an invoke takes and answers, an async task as fcplane shows it, and the audit
record of an invocation."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

# FC's qualifier: LATEST, a version number or an alias name.
QUALIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
# FC's async task id: up to 128 letters, digits, _ or -, starting with a letter or _.
TASK_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$"
# A task id as FC hands it out (its own may start with a digit): what reads accept.
TASK_REF_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"

MAX_HEADERS = 32
MAX_HEADER_VALUE = 4096
# An RFC 9110 field name (a token).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Visible ASCII, space and tab: no CR/LF (header injection), no other control bytes.
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
# Headers that belong to the call itself (FC's, the signature's, HTTP's framing): a
# caller's value would either be overwritten or break the signed request.
_RESERVED_PREFIXES = ("x-fc-", "x-acs-")
_RESERVED_NAMES = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "content-md5",
        "content-type",
        "date",
        "expect",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

Qualifier = Annotated[
    str,
    Field(
        pattern=QUALIFIER_PATTERN,
        description="LATEST, a published version number or an alias name.",
    ),
]


class InvocationMode(StrEnum):
    SYNC = "sync"
    ASYNC = "async"


class InvokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: InvocationMode = Field(
        InvocationMode.SYNC,
        description="`sync` waits for the function's answer; `async` queues the event in FC "
        "and answers with the task id at once.",
    )
    qualifier: Qualifier | None = Field(
        None, description="LATEST (the default), a version number or an alias name."
    )
    payload: JsonValue = Field(
        None,
        description="The event as a JSON value, sent to the function as its compact JSON "
        "text. Give this or `payload_base64`, not both; with neither, the event is empty.",
    )
    payload_base64: str | None = Field(
        None,
        max_length=48 * 1024 * 1024,
        description="The event as raw bytes, base64-encoded (for binary or non-JSON events).",
    )
    headers: dict[str, str] | None = Field(
        None,
        description=f"Request headers passed to FC with the call (at most {MAX_HEADERS}); "
        "`x-fc-*`, `x-acs-*` and HTTP's own (Host, Authorization, Content-Type, ...) "
        "are refused.",
    )
    log_tail: bool = Field(
        True, description="Ask FC for the last 4 KB of the invocation's log (sync only)."
    )
    async_task_id: str | None = Field(
        None,
        pattern=TASK_ID_PATTERN,
        description="Async only: the task's id (up to 128 letters, digits, _ or -, starting "
        "with a letter or _). Default: FC names it. FC keeps tasks for functions with async "
        "tasks enabled (`asyncInvokeConfig.asyncTask`).",
    )

    @field_validator("payload_base64")
    @classmethod
    def _strict_base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("not valid base64 (standard alphabet, padded)") from None
        return value

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > MAX_HEADERS:
            raise ValueError(f"at most {MAX_HEADERS} headers")
        seen: set[str] = set()
        for name, text in value.items():
            lower = name.lower()
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if lower in _RESERVED_NAMES or lower.startswith(_RESERVED_PREFIXES):
                raise ValueError(f"header {name!r} is reserved for the call itself")
            if lower in seen:
                raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
            seen.add(lower)
            # The value is never echoed: a header may carry a credential.
            if len(text) > MAX_HEADER_VALUE or not _HEADER_VALUE.match(text):
                raise ValueError(
                    f"the value of header {name!r} must be at most {MAX_HEADER_VALUE} "
                    "characters of visible ASCII, spaces or tabs"
                )
        return value


class InvokeOut(BaseModel):
    invocation_id: int = Field(description="The audit record of this call (`…/invocations`).")
    mode: InvocationMode
    qualifier: str = Field(description="The qualifier asked for (LATEST when none was given).")
    status_code: int = Field(description="FC's HTTP status: 200 for a sync call, 202 queued.")
    fc_request_id: str | None = Field(description="FC's request id, for FC's logs and support.")
    served_version: str | None = Field(
        None, description="What answered: LATEST or the version an alias routed to (sync only)."
    )
    async_task_id: str | None = Field(
        None, description="The queued task's id (async only; FC's x-fc-async-task-id)."
    )
    function_error: str | None = Field(
        None,
        description="FC's error type when the function itself failed (for example "
        "`UnhandledInvocationError`); the call through fcplane still succeeded.",
    )
    response_format: Literal["json", "text", "binary", "empty"] = Field(
        description="How the function's answer is given: `json` in `response`; `text` in "
        "`response_text` (and `response_base64`); `binary` in `response_base64` only."
    )
    response: JsonValue = Field(None, description="The function's answer, when it is JSON.")
    response_text: str | None = Field(None, description="The answer as UTF-8 text (not JSON).")
    response_base64: str | None = Field(None, description="The answer's bytes, base64.")
    duration_ms: float | None = Field(
        None, description="FC's x-fc-invocation-duration: the function's run time in ms."
    )
    billed_duration_ms: int | None = Field(
        None, description="Billed duration from the log tail's summary line (with log_tail)."
    )
    max_memory_mb: float | None = Field(
        None, description="FC's x-fc-max-memory-usage: the instance's peak memory in MB."
    )
    instance_id: str | None = Field(None, description="The FC instance that ran the call.")
    code_checksum: str | None = Field(None, description="CRC-64 of the code that ran.")
    log: str | None = Field(
        None, description="The decoded log tail (x-fc-log-result), when log_tail was asked."
    )


class AsyncTaskEventOut(BaseModel):
    status: str
    at: datetime | None
    detail: str | None = None


class AsyncTaskOut(BaseModel):
    task_id: str
    status: str = Field(
        description="FC's status: Enqueued, Running, Retrying, Succeeded, Failed, Stopped, "
        "Stopping, Invalid or Expired."
    )
    qualifier: str | None = None
    fc_request_id: str | None = Field(None, description="FC's request id of the invocation.")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_ms: int | None = None
    retried_times: int | None = Field(None, description="Retries FC has made so far.")
    error_message: str | None = Field(None, description="Why the task failed, when it did.")
    instance_id: str | None = None
    return_payload: str | None = Field(
        None, description="The function's answer, as FC keeps it (text), once it has one."
    )
    events: list[AsyncTaskEventOut] = Field(default_factory=list)


class AsyncTaskPage(BaseModel):
    items: list[AsyncTaskOut] = Field(description="Newest first; payloads are left out.")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page."
    )


class InvocationOut(BaseModel):
    """One audited invoke: never its payload or response."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    function: str = Field(validation_alias="function_name")
    qualifier: str | None
    mode: InvocationMode
    actor: str = Field(description="The name of the token that invoked.")
    request_id: str | None = Field(description="fcplane's request id (X-Request-ID).")
    fc_request_id: str | None = Field(description="FC's request id.")
    outcome: Literal["ok", "function_error", "failed"] = Field(
        description="`ok`; `function_error`: the function failed; `failed`: FC refused the "
        "call or could not be reached."
    )
    status_code: int | None = Field(
        description="FC's HTTP status, or for a failed call the status fcplane answered."
    )
    duration_ms: int | None = Field(
        description="How long the call to FC took, as fcplane measured it (ms)."
    )
    created_at: datetime
