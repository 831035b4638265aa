from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from service.auth.dependencies import AdminPrincipal, ReadPrincipal
from service.kit.openapi import created, problems
from service.kit.pagination import Page, PageDep
from service.kit.strict_route import StrictRoute
from service.state import app_state
from service.webhooks.schemas import (
    DeliveryOut,
    DeliveryStatus,
    SecretRotate,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from service.webhooks.service import WebhookService

router = APIRouter(route_class=StrictRoute, tags=["webhooks"], responses=problems(401, 403, 422))

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def _service(request: Request) -> WebhookService:
    state = app_state(request)
    return WebhookService(state.db, state.secret_box, state.settings)


Webhooks = Annotated[WebhookService, Depends(_service)]


@router.post("/v1/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate, principal: AdminPrincipal, webhooks: Webhooks, response: Response
) -> WebhookCreated:
    """Subscribe a URL to events. A standard webhook's signing secret is in this
    response only; URL and secrets are encrypted at rest."""
    subscription, secret = await webhooks.create(body, principal.name)
    created(response, f"/v1/webhooks/{subscription.id}")
    return WebhookCreated(**WebhookOut.model_validate(subscription).model_dump(), secret=secret)


@router.get("/v1/webhooks", response_model=Page[WebhookOut])
async def list_webhooks(_: ReadPrincipal, webhooks: Webhooks, page: PageDep) -> Page[WebhookOut]:
    rows = await webhooks.page(page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda s: s.id)
    return Page(items=[WebhookOut.model_validate(s) for s in items], next_cursor=cursor)


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut, responses=problems(404))
async def get_webhook(webhook_id: Id, _: ReadPrincipal, webhooks: Webhooks) -> WebhookOut:
    return WebhookOut.model_validate(await webhooks.get(webhook_id))


@router.patch("/v1/webhooks/{webhook_id}", response_model=WebhookOut, responses=problems(404))
async def update_webhook(
    webhook_id: Id, body: WebhookUpdate, _: AdminPrincipal, webhooks: Webhooks
) -> WebhookOut:
    """Change fields; omitted ones stay. `active: true` re-enables a disabled webhook
    (pending deliveries resume); events emitted while it was disabled are not sent."""
    return WebhookOut.model_validate(await webhooks.update(webhook_id, body))


@router.delete(
    "/v1/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404)
)
async def delete_webhook(webhook_id: Id, _: AdminPrincipal, webhooks: Webhooks) -> None:
    """Delete a webhook with its pending deliveries and delivery log."""
    await webhooks.delete(webhook_id)


@router.post(
    "/v1/webhooks/{webhook_id}/rotate-secret",
    response_model=SecretRotated,
    responses=problems(404, 409),
)
async def rotate_webhook_secret(
    webhook_id: Id, _: AdminPrincipal, webhooks: Webhooks, body: SecretRotate | None = None
) -> SecretRotated:
    """Replace a standard webhook's secret. During the grace period every delivery
    carries two signatures (new and old), so receivers can switch without a gap."""
    subscription, secret = await webhooks.rotate(webhook_id, body or SecretRotate())
    return SecretRotated(
        id=subscription.id,
        secret=secret,
        previous_secret_expires_at=subscription.previous_secret_expires_at,
    )


@router.post(
    "/v1/webhooks/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=problems(404, 409),
)
async def send_test_event(
    webhook_id: Id, principal: AdminPrincipal, webhooks: Webhooks
) -> DeliveryOut:
    """Queue a signed `webhook.test` event for this webhook only; follow it in the
    delivery log."""
    return DeliveryOut.model_validate(await webhooks.send_test(webhook_id, principal.name))


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=problems(404),
)
async def list_webhook_deliveries(
    webhook_id: Id,
    _: ReadPrincipal,
    webhooks: Webhooks,
    page: PageDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> Page[DeliveryOut]:
    """Deliveries, newest first, each with every attempt: time, outcome, HTTP status,
    latency, the start of the response and the error."""
    rows = await webhooks.list_deliveries(webhook_id, status_, page.after_int(), page.limit + 1)
    items, cursor = page.trim(rows, key=lambda d: d.id)
    return Page(items=[DeliveryOut.model_validate(d) for d in items], next_cursor=cursor)


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=problems(404, 409),
)
async def redeliver_delivery(delivery_id: Id, _: AdminPrincipal, webhooks: Webhooks) -> DeliveryOut:
    """Send a delivered or given-up delivery again, as a new round of attempts
    (same `webhook-id`, so receivers can tell it is the same event)."""
    return DeliveryOut.model_validate(await webhooks.redeliver(delivery_id))
