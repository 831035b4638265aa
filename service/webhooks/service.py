from __future__ import annotations

from datetime import timedelta

from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import Conflict, InvalidInput, NotFound
from service.kit.settings import Settings
from service.models import WebhookDelivery, WebhookSubscription
from service.models.base import utcnow
from service.webhooks import outbox, signing
from service.webhooks.repository import DeliveryRepository, SubscriptionRepository
from service.webhooks.schemas import (
    DeliveryStatus,
    Format,
    SecretRotate,
    WebhookCreate,
    WebhookUpdate,
)
from service.webhooks.secrets import SECRET_CONTEXT, URL_CONTEXT
from service.webhooks.url_safety import DestinationPolicy, DestinationRefused, redact_url


class DestinationNotAllowed(InvalidInput):
    code, title = "destination_not_allowed", "Webhook destination not allowed"


async def _subscription(
    subscriptions: SubscriptionRepository, subscription_id: int
) -> WebhookSubscription:
    subscription = await subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound(f"webhook {subscription_id} does not exist", id=subscription_id)
    return subscription


async def _active(
    subscriptions: SubscriptionRepository, subscription_id: int
) -> WebhookSubscription:
    subscription = await _subscription(subscriptions, subscription_id)
    if not subscription.active:
        raise Conflict(
            f"webhook {subscription_id} is disabled ({subscription.disabled_reason}); "
            're-enable it with PATCH {"active": true}',
            id=subscription_id,
        )
    return subscription


async def _delivery(deliveries: DeliveryRepository, delivery_id: int) -> WebhookDelivery:
    delivery = await deliveries.by_id(delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist", id=delivery_id)
    return delivery


def _field_error(field: str, message: str, kind: str = "value_error") -> InvalidInput:
    error = {"field": field, "location": "body", "message": message, "type": kind}
    return InvalidInput(f"Invalid fields: {field}", errors=[error])


class WebhookService:
    def __init__(self, db: Database, box: SecretBox, settings: Settings) -> None:
        self.db = db
        self.box = box
        self.settings = settings
        self.policy = DestinationPolicy(settings.webhook_allowed_hosts)

    async def get(self, subscription_id: int) -> WebhookSubscription:
        async with self.db.read() as session:
            return await _subscription(SubscriptionRepository(session), subscription_id)

    async def page(self, after: int | None, limit: int) -> list[WebhookSubscription]:
        async with self.db.read() as session:
            return await SubscriptionRepository(session).page(after, limit)

    async def create(
        self, request: WebhookCreate, actor: str
    ) -> tuple[WebhookSubscription, str | None]:
        """The subscription, and its secret when it is ours to show (standard format)."""
        # Resolving the host is a network call: before the write, never inside it.
        await self._check_destination(request.url)
        secret = request.secret.get_secret_value() if request.secret else None
        shown: str | None = None
        if request.format is Format.STANDARD:
            if secret is None:
                secret = signing.generate_standard_secret()
            self._check_standard_secret(secret)
            shown = secret
        elif request.format is Format.SLACK and secret is not None:
            raise _field_error("secret", "Slack incoming webhooks are not signed; omit secret")
        subscription = WebhookSubscription(
            format=request.format.value,
            events=[e.value for e in request.events],
            functions=request.functions,
            secret_sealed=self.box.seal(secret, SECRET_CONTEXT) if secret else None,
            active=True,
            created_by=actor,
        )
        self._set_url(subscription, request.url)
        async with self.db.write() as session:
            await SubscriptionRepository(session).add(subscription)
        return subscription, shown

    async def update(self, subscription_id: int, request: WebhookUpdate) -> WebhookSubscription:
        if request.url is not None:
            await self._check_destination(request.url)
        async with self.db.write() as session:
            subscription = await _subscription(SubscriptionRepository(session), subscription_id)
            given = request.model_fields_set
            if request.url is not None:
                self._set_url(subscription, request.url)
            if request.events is not None:
                subscription.events = [e.value for e in request.events]
            if "functions" in given:
                subscription.functions = request.functions
            if request.secret is not None:
                if subscription.format == Format.STANDARD:
                    raise _field_error(
                        "secret", "use POST /v1/webhooks/{id}/rotate-secret for standard webhooks"
                    )
                if subscription.format == Format.SLACK:
                    raise _field_error("secret", "Slack incoming webhooks are not signed")
                subscription.secret_sealed = self.box.seal(
                    request.secret.get_secret_value(), SECRET_CONTEXT
                )
            if request.active is True:
                subscription.active, subscription.disabled_reason = True, None
            elif request.active is False:
                subscription.active, subscription.disabled_reason = False, "paused through the API"
            subscription.updated_at = utcnow()
        return subscription

    async def delete(self, subscription_id: int) -> None:
        async with self.db.write() as session:
            subscriptions = SubscriptionRepository(session)
            await subscriptions.delete(await _subscription(subscriptions, subscription_id))

    async def rotate(
        self, subscription_id: int, request: SecretRotate
    ) -> tuple[WebhookSubscription, str]:
        grace = (
            request.grace_seconds
            if request.grace_seconds is not None
            else self.settings.webhook_secret_grace_seconds
        )
        async with self.db.write() as session:
            subscription = await _subscription(SubscriptionRepository(session), subscription_id)
            if subscription.format != Format.STANDARD:
                raise Conflict(
                    "only standard webhooks have a fcplane secret; for a robot, set its new "
                    "secret with PATCH",
                    id=subscription_id,
                )
            secret = (
                request.secret.get_secret_value()
                if request.secret
                else signing.generate_standard_secret()
            )
            self._check_standard_secret(secret)
            now = utcnow()
            if grace > 0 and subscription.secret_sealed is not None:
                subscription.previous_secret_sealed = subscription.secret_sealed
                subscription.previous_secret_expires_at = now + timedelta(seconds=grace)
            else:
                subscription.previous_secret_sealed = None
                subscription.previous_secret_expires_at = None
            subscription.secret_sealed = self.box.seal(secret, SECRET_CONTEXT)
            subscription.updated_at = now
        return subscription, secret

    async def send_test(self, subscription_id: int, actor: str) -> WebhookDelivery:
        async with self.db.write() as session:
            subscription = await _active(SubscriptionRepository(session), subscription_id)
            delivery = await outbox.emit_test(session, subscription.id, actor)
            return await _delivery(DeliveryRepository(session), delivery.id)

    async def list_deliveries(
        self, subscription_id: int, status: DeliveryStatus | None, before: int | None, limit: int
    ) -> list[WebhookDelivery]:
        async with self.db.read() as session:
            await _subscription(SubscriptionRepository(session), subscription_id)
            return await DeliveryRepository(session).page(
                subscription_id, status.value if status else None, before, limit
            )

    async def redeliver(self, delivery_id: int) -> WebhookDelivery:
        async with self.db.write() as session:
            deliveries = DeliveryRepository(session)
            delivery = await _delivery(deliveries, delivery_id)
            if delivery.status == DeliveryStatus.PENDING:
                raise Conflict(f"delivery {delivery_id} is still pending", id=delivery_id)
            await _active(SubscriptionRepository(session), delivery.subscription_id)
            await deliveries.restart(delivery, utcnow())
            outbox.mark_for_wakeup(session)
            return await _delivery(deliveries, delivery_id)

    async def _check_destination(self, url: str) -> None:
        try:
            await self.policy.check_url(url)
        except DestinationRefused as exc:
            error = {"field": "url", "location": "body", "message": str(exc), "type": "url_refused"}
            raise DestinationNotAllowed(f"url: {exc}", errors=[error]) from None

    def _check_standard_secret(self, secret: str) -> None:
        try:
            signing.standard_key(secret)
        except ValueError as exc:
            raise _field_error("secret", str(exc)) from None

    def _set_url(self, subscription: WebhookSubscription, url: str) -> None:
        robot_token_in_path = subscription.format in (Format.FEISHU, Format.SLACK)
        subscription.url_sealed = self.box.seal(url, URL_CONTEXT)
        subscription.url_redacted = redact_url(url, mask_last_segment=robot_token_in_path)
