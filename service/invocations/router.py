from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.invocations.schemas import (
    QUALIFIER_PATTERN,
    TASK_REF_PATTERN,
    AsyncTaskOut,
    AsyncTaskPage,
    InvocationOut,
    InvokeIn,
    InvokeOut,
)
from service.invocations.service import InvocationService
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["functions"], responses=problems(401, 403, 422))

# FC's ListAsyncTasks returns at most 100 tasks a page.
TASKS_PER_PAGE = 100

TaskIdPath = Annotated[
    str, Path(pattern=TASK_REF_PATTERN, description="The async task's id (`async_task_id`).")
]
QualifierQuery = Annotated[
    str | None,
    Query(
        pattern=QUALIFIER_PATTERN,
        description="The qualifier the task was invoked with (LATEST by default).",
    ),
]
TaskStatus = Literal[
    "Enqueued", "Running", "Retrying", "Succeeded", "Failed", "Stopping", "Stopped", "Invalid",
    "Expired",
]  # fmt: skip


async def _service(request: Request) -> InvocationService:
    state = app_state(request)
    return InvocationService(state.db, state.secret_box, state.gateway)


Invocations = Annotated[InvocationService, Depends(_service)]


@router.post(
    FUNCTION_PREFIX + "/invoke", response_model=InvokeOut, responses=problems(404, 413, 429, 502)
)
async def invoke_function(
    ref: FunctionPath, body: InvokeIn, principal: DeployPrincipal, invocations: Invocations
) -> InvokeOut:
    """Run the function once through FC: `sync` answers with the function's response, FC's
    request id, duration, billed duration, peak memory and the decoded log tail; `async`
    queues the event and answers with the task id.

    Needs the `deploy` scope, not `read`: an invocation runs the function's code, which
    may write to databases, send messages or spend money — invoking is a change, not a
    look. Every call is recorded (`…/invocations`): who, when, which qualifier, the outcome
    and both request ids; the payload and the response never are.

    A function that fails is not an fcplane error: the answer is 200 with `function_error`
    set (FC's `x-fc-error-type`) and the function's error document in `response`. An event
    over FC's limit (32 MB sync, 128 KB async) is refused with 413 naming its field; the
    request body as a whole is bounded first by FCPLANE_MAX_BODY_BYTES (1 MB by default)."""
    return await invocations.invoke(ref, body, principal.name)


@router.get(
    FUNCTION_PREFIX + "/invocations", response_model=Page[InvocationOut], responses=problems(404)
)
async def list_invocations(
    ref: FunctionPath, _: ReadPrincipal, invocations: Invocations, page: PageDep
) -> Page[InvocationOut]:
    """The audit trail of invocations made through fcplane, newest first (kept after the
    function stops being managed)."""
    rows = await invocations.invocations(ref, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda row: row.id)
    return Page(items=[InvocationOut.model_validate(r) for r in items], next_cursor=cursor)


@router.get(
    FUNCTION_PREFIX + "/async-tasks",
    response_model=AsyncTaskPage,
    responses=problems(404, 429, 502),
)
async def list_async_tasks(
    ref: FunctionPath,
    _: DeployPrincipal,
    invocations: Invocations,
    page: PageDep,
    qualifier: QualifierQuery = None,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this state.")] = None,
) -> AsyncTaskPage:
    """The function's async tasks as FC lists them, newest first, without payloads.

    Needs `deploy`, like invoking: a task's answer is the function's response."""
    limit = min(page.limit, TASKS_PER_PAGE)
    return await invocations.tasks(ref, limit, page.after_str(), qualifier, status)


@router.get(
    FUNCTION_PREFIX + "/async-tasks/{task_id}",
    response_model=AsyncTaskOut,
    responses=problems(404, 429, 502),
)
async def get_async_task(
    ref: FunctionPath,
    task_id: TaskIdPath,
    _: DeployPrincipal,
    invocations: Invocations,
    qualifier: QualifierQuery = None,
) -> AsyncTaskOut:
    """An async invocation's state, retries, error and (once finished) the function's
    answer. Needs `deploy`, like invoking: the answer is the function's response."""
    return await invocations.task(ref, task_id, qualifier)


@router.post(
    FUNCTION_PREFIX + "/async-tasks/{task_id}/stop",
    response_model=AsyncTaskOut,
    responses=problems(404, 422, 429, 502),
)
async def stop_async_task(
    ref: FunctionPath,
    task_id: TaskIdPath,
    _: DeployPrincipal,
    invocations: Invocations,
    qualifier: QualifierQuery = None,
) -> AsyncTaskOut:
    """Stop an async invocation that has not finished; answers the task as it is then.
    A task that already finished is refused by FC (422)."""
    return await invocations.stop(ref, task_id, qualifier)
