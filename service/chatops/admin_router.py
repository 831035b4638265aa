"""`/v1/chat-integrations`: the robots fcplane answers, and their user mappings (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from service.auth.dependencies import AdminPrincipal
from service.chatops.integrations import IntegrationService
from service.chatops.schemas import (
    ChatUserOut,
    ChatUserPut,
    IntegrationCreate,
    IntegrationOut,
    IntegrationUpdate,
)
from service.kit.openapi import created, problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["chat-ops"], responses=problems(401, 403, 422))

Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="The integration's id.")]
UserId = Annotated[
    str,
    Path(
        pattern=r"^[^/\s]{1,128}$",
        description="The platform's stable user id: Slack `user_id` (U...), DingTalk "
        "`senderStaffId`, Feishu `open_id` (ou_...).",
    ),
]


async def _service(request: Request) -> IntegrationService:
    state = app_state(request)
    return IntegrationService(state.db, state.secret_box, state.settings)


Integrations = Annotated[IntegrationService, Depends(_service)]


@router.post(
    "/v1/chat-integrations",
    status_code=status.HTTP_201_CREATED,
    response_model=IntegrationOut,
    responses=problems(409),
    summary="Add a chat integration",
)
async def create_chat_integration(
    body: IntegrationCreate, principal: AdminPrincipal, service: Integrations, response: Response
) -> IntegrationOut:
    """Register a Slack app, DingTalk app robot or Feishu app whose commands fcplane
    answers. Its secrets are encrypted at rest and never returned; `inbound_urls`
    says what to paste into the platform's console."""
    row = await service.create(body, principal.name)
    created(response, f"/v1/chat-integrations/{row.id}")
    return service.out(row)


@router.get(
    "/v1/chat-integrations", response_model=Page[IntegrationOut], summary="List chat integrations"
)
async def list_chat_integrations(
    _: AdminPrincipal, service: Integrations, page: PageDep
) -> Page[IntegrationOut]:
    """Every integration, oldest first (secrets shown only as `has_…` flags)."""
    rows = await service.page(page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda r: r.id)
    return Page(items=[service.out(r) for r in items], next_cursor=cursor)


@router.get(
    "/v1/chat-integrations/{integration_id}",
    response_model=IntegrationOut,
    responses=problems(404),
    summary="Get a chat integration",
)
async def get_chat_integration(
    integration_id: Id, _: AdminPrincipal, service: Integrations
) -> IntegrationOut:
    """One integration, its secrets shown only as `has_…` flags."""
    return service.out(await service.get(integration_id))


@router.patch(
    "/v1/chat-integrations/{integration_id}",
    response_model=IntegrationOut,
    responses=problems(404),
    summary="Change a chat integration",
)
async def update_chat_integration(
    integration_id: Id, body: IntegrationUpdate, _: AdminPrincipal, service: Integrations
) -> IntegrationOut:
    """Change fields; omitted ones stay. A given secret replaces the stored one;
    `enabled: false` answers every inbound request with 403."""
    return service.out(await service.update(integration_id, body))


@router.delete(
    "/v1/chat-integrations/{integration_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
    summary="Delete a chat integration",
)
async def delete_chat_integration(
    integration_id: Id, _: AdminPrincipal, service: Integrations
) -> None:
    """Delete the integration with its user mappings, approvals and receipts; the audit
    events stay."""
    await service.delete(integration_id)


@router.get(
    "/v1/chat-integrations/{integration_id}/users",
    response_model=Page[ChatUserOut],
    responses=problems(404),
    summary="List an integration's mapped users",
)
async def list_chat_users(
    integration_id: Id, _: AdminPrincipal, service: Integrations, page: PageDep
) -> Page[ChatUserOut]:
    """Platform users and the scope each has through this integration; anybody else
    gets the integration's `default_scope`."""
    rows = await service.users(integration_id, page.after_str(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda u: u.platform_user_id)
    return Page(items=[ChatUserOut.model_validate(u) for u in items], next_cursor=cursor)


@router.put(
    "/v1/chat-integrations/{integration_id}/users/{user_id}",
    response_model=ChatUserOut,
    responses={**problems(404), 201: {"description": "Created", "model": ChatUserOut}},
    summary="Map a platform user to a scope",
)
async def put_chat_user(
    integration_id: Id,
    user_id: UserId,
    body: ChatUserPut,
    principal: AdminPrincipal,
    service: Integrations,
    response: Response,
) -> ChatUserOut:
    """Give a platform user (by stable id, never by display name) a scope: `read`
    (help, status, plan, drift, jobs), `deploy` (ask for deploys and rollbacks, approve
    them, stress) or `admin`. 201 when new, 200 when changed."""
    row, new = await service.put_user(integration_id, user_id, body, principal.name)
    if new:
        response.status_code = status.HTTP_201_CREATED
        created(response, f"/v1/chat-integrations/{integration_id}/users/{user_id}")
    return ChatUserOut.model_validate(row)


@router.delete(
    "/v1/chat-integrations/{integration_id}/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
    summary="Remove a user mapping",
)
async def delete_chat_user(
    integration_id: Id, user_id: UserId, _: AdminPrincipal, service: Integrations
) -> None:
    """The user falls back to the integration's `default_scope`."""
    await service.delete_user(integration_id, user_id)
