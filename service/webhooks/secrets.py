"""Sealing and opening a subscription's URL and signing secrets (kit.crypto.SecretBox)."""

from __future__ import annotations

from datetime import datetime

from service.kit.crypto import SecretBox
from service.models import WebhookSubscription
from service.webhooks.messages import Secrets

# Contexts bind each ciphertext to its field: a sealed URL cannot be passed off
# as a sealed secret.
URL_CONTEXT = "webhooks.url"
SECRET_CONTEXT = "webhooks.secret"


def open_url(box: SecretBox, subscription: WebhookSubscription) -> str:
    return box.open(subscription.url_sealed, URL_CONTEXT)


def open_secrets(box: SecretBox, subscription: WebhookSubscription, now: datetime) -> Secrets:
    """The current secret and, during its grace period, the rotated-out one."""
    current = subscription.secret_sealed
    previous = subscription.previous_secret_sealed
    expires = subscription.previous_secret_expires_at
    still_valid = previous is not None and expires is not None and expires > now
    return Secrets(
        current=box.open(current, SECRET_CONTEXT) if current is not None else None,
        previous=box.open(previous, SECRET_CONTEXT) if still_valid and previous else None,
    )
