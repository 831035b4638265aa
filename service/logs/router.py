from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from service.auth.dependencies import ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.kit.errors import InvalidInput
from service.kit.openapi import problems
from service.kit.strict_route import StrictRoute
from service.logs.follow import follow
from service.logs.gateway import SlsGateway
from service.logs.schemas import LogsOut
from service.logs.service import LogService, sls_query
from service.logs.window import TIME_FORMS, window
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["functions"], responses=problems(401, 403, 422))

EVENT_STREAM = "text/event-stream"
MAX_QUERY_LENGTH = 1024
_SLS = SlsGateway()  # stateless: each call makes its own SDK client


async def _service(request: Request) -> LogService:
    state = app_state(request)
    return LogService(state.db, state.secret_box, state.gateway, _SLS)


Logs = Annotated[LogService, Depends(_service)]

_STREAM_DOC: dict[str, Any] = {
    "description": "The lines (`application/json`); with `Accept: text/event-stream`, a "
    "stream of `event: log` frames (each a LogLine as JSON), heartbeat comments, and "
    "`event: error` (a problem document) or `event: end` when it stops.",
    "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
}


@router.get(
    FUNCTION_PREFIX + "/logs",
    response_model=LogsOut,
    summary="Read or follow a function's logs",
    responses={200: _STREAM_DOC, **problems(404, 409, 429, 502)},
)
async def get_function_logs(
    ref: FunctionPath,
    _: ReadPrincipal,
    logs: Logs,
    request: Request,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=64,
            description=f"Start of the window: {TIME_FORMS}. Default: 15 minutes before `to`.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(max_length=64, description="End of the window, as `from`. Default: now."),
    ] = None,
    request_id: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,127}$",
            description="Only the lines of this invocation (FC's request id).",
        ),
    ] = None,
    query: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description='An SLS search: keywords, "phrases", `field: value`, `prefix*`, '
            "joined by `and`.",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="At most this many lines (the newest).")
    ] = 100,
) -> Any:
    """The function's log lines, read from the SLS project and logstore of its `logConfig`
    (FC's topic `FCLogs:<name>`), through SLS's GetLogs; the newest `limit` lines of the
    window, oldest first.

    Send `Accept: text/event-stream` to follow: the newest `limit` lines since `from`
    (default: 15 minutes ago), then each new line as it reaches SLS, polled every
    1.5 s, until the client disconnects; after 5 minutes `event: end` asks it to
    reconnect from its newest line. `to` does not apply.

    409 `log_config_missing` when the function has no `logConfig` project and logstore;
    409 `sls_not_found` when SLS has no such project or logstore; 502 when SLS refuses the
    account's credentials or fails."""
    following = EVENT_STREAM in request.headers.get("accept", "")
    if following and to is not None:
        raise InvalidInput("to: a followed stream has no end", field="to")
    span = window(from_, to)
    search = sls_query(request_id, query)
    target = await logs.target(ref)
    if not following:
        return await logs.read(target, span, search, limit)

    async def disconnected() -> bool:
        return await request.is_disconnected()

    return StreamingResponse(
        follow(logs, target, span.from_s, search, limit, disconnected),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
