"""The public API other domains use to announce events: :func:`emit`.

    from service.webhooks.outbox import emit
    await emit(session, EventType.DEPLOY_SUCCEEDED, FunctionRef("prod", "hello"),
               {"revision": 5, "changes": [...]}, actor=principal.name,
               resource="/v1/deployments/42")

The event and one delivery per matching subscription are written in the
caller's session, so they commit or roll back with the change they describe:
no event is lost, and none is sent for a change that did not happen. Sending is
left to the dispatcher (service.webhooks.dispatcher); emitting never waits for
the network. After the commit, dispatchers in this process are woken at once.

Emitting takes the function's event-counter row lock until the caller
commits; that is what orders a function's events by commit. Emit late in the
transaction and keep it short: other emits for the same function wait for it.

Payload conventions the chat renderers understand: `changes`,
`local_changes`, `remote_changes` (lists of `{path, base, value}`),
`conflicts` (`{path, base, local, remote}`), `revision`, `message`, `error`,
`status`. Never put secrets in a payload; values under secret-looking keys are
masked anyway.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.functions.paths import function_path
from service.kit.redact import scrub_keys
from service.kit.request_id import current_request_id
from service.models import WebhookDelivery, WebhookEvent
from service.models.function import FunctionRef
from service.webhooks.repository import OutboxRepository
from service.webhooks.schemas import TEST_EVENT, EventType

_EMITTED = "fcplane.webhooks.emitted"
_wakers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


async def emit(
    session: AsyncSession,
    event_type: EventType | str,
    function: FunctionRef | None,
    payload: Mapping[str, Any],
    *,
    actor: str | None = None,
    resource: str | None = None,
) -> WebhookEvent:
    """Record an event for delivery when (and only if) the caller's transaction commits.

    ``resource``: the API path of what the event is about (linked from chat
    messages); default the function's own path.
    """
    kind = str(event_type)
    if kind != TEST_EVENT and kind not in set(EventType):
        raise ValueError(f"unknown webhook event type {kind!r}")
    outbox = OutboxRepository(session)
    stream = str(function) if function else ""
    event = WebhookEvent(
        uid=f"msg_{uuid.uuid4().hex}",
        type=kind,
        account=function.account if function else None,
        function=function.name if function else None,
        stream=stream,
        seq=await outbox.next_seq(stream),
        actor=actor,
        resource=resource or (function_path(function) if function else None),
        # JSON-ready now (datetimes, enums, pydantic models), so a payload that
        # cannot be stored fails here, in the caller's code, not at commit.
        payload=scrub_keys(to_jsonable_python(dict(payload))),
        # The request (or job) that caused it: its deliveries log under the same id.
        request_id=current_request_id(),
    )
    await outbox.add(event)
    subscriptions = await outbox.subscribed_ids(kind, function)
    await outbox.add_deliveries(
        WebhookDelivery(subscription_id=sid, event_id=event.id, stream=stream, seq=event.seq)
        for sid in subscriptions
    )
    if subscriptions:
        session.info[_EMITTED] = True
    return event


async def emit_test(session: AsyncSession, subscription_id: int, actor: str) -> WebhookDelivery:
    """A test event for one subscription, whatever its event filter."""
    outbox = OutboxRepository(session)
    event = WebhookEvent(
        uid=f"msg_{uuid.uuid4().hex}",
        type=TEST_EVENT,
        function=None,
        stream="",
        seq=await outbox.next_seq(""),
        actor=actor,
        resource=f"/v1/webhooks/{subscription_id}",
        payload={"message": "If you can read this, the webhook works."},
        request_id=current_request_id(),
    )
    await outbox.add(event)
    delivery = WebhookDelivery(
        subscription_id=subscription_id, event_id=event.id, stream="", seq=event.seq
    )
    await outbox.add_deliveries([delivery])
    session.info[_EMITTED] = True
    return delivery


def mark_for_wakeup(session: AsyncSession) -> None:
    """Wake dispatchers after this session commits (e.g. after a manual redelivery)."""
    session.info[_EMITTED] = True


def add_waker(loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
    _wakers.add((loop, wake))


def remove_waker(loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
    _wakers.discard((loop, wake))


@sa_event.listens_for(Session, "after_commit")
def _wake_dispatchers(session: Session) -> None:
    if not session.info.pop(_EMITTED, False):
        return
    for loop, wake in list(_wakers):
        try:
            # Thread-safe: a dispatcher may run on another thread's loop.
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # its loop has closed
            _wakers.discard((loop, wake))


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EMITTED, None)
