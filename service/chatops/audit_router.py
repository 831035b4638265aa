"""GET /v1/chat-events: the chat-ops audit trail (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.auth.dependencies import AdminPrincipal
from service.chatops.audit import AuditService, ChatEventOut, EventKind, EventOutcome
from service.kit.openapi import problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["chat-ops"], responses=problems(401, 403, 422))


async def _service(request: Request) -> AuditService:
    return AuditService(app_state(request).db)


Audit = Annotated[AuditService, Depends(_service)]


@router.get(
    "/v1/chat-events",
    response_model=Page[ChatEventOut],
    summary="List the chat-ops audit trail",
)
async def list_chat_events(
    _: AdminPrincipal,
    audit: Audit,
    page: PageDep,
    integration: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Only events of this chat integration (its id)."),
    ] = None,
    user: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            description="Only events of this platform user id (Slack `U…`, a DingTalk "
            "staff id, a Feishu open_id).",
        ),
    ] = None,
    outcome: Annotated[
        EventOutcome | None, Query(description="Only events with this outcome.")
    ] = None,
    kind: Annotated[
        EventKind | None, Query(description="Only commands, decisions or refusals.")
    ] = None,
) -> Page[ChatEventOut]:
    """Every command, approval decision and refusal taken from chat, newest first: who
    (platform user id and name), where (integration, channel), what (the command as
    typed), the outcome and the deployment, job or approval it concerns.

    Admin only: the trail shows who tried what, refusals included.
    """
    rows = await audit.page(integration, user, outcome, kind, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda event: event.id)
    return Page(items=[ChatEventOut.model_validate(e) for e in items], next_cursor=cursor)
