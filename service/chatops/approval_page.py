"""DingTalk's approval page: ActionCard buttons can only open links, so each button is a
one-time signed URL to a page that shows what will change and confirms it.

A link proves possession, not identity: anyone in the group can open it. So:
- the link is signed (HMAC-SHA256 under a key derived from FCPLANE_SECRET_KEY, over
  approval id, decision and expiry), expires with the approval, and is used once;
- when the integration requires a second approver, the page does NOT decide: it
  asks for ``@fcplane approve <id>`` (or ``reject``) in the group, where DingTalk
  vouches for who sends it (a verified identity, checked for a different user);
- otherwise the page decides on behalf of the requester (who asked for the change
  and may approve it themselves when no second approver is required).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from service.chatops import delivery, receipts
from service.chatops.approvals import reply_target
from service.chatops.commands.repository import ApprovalRepository
from service.chatops.contract import ActionRequest, Button, ChatUser, Reply
from service.chatops.integrations import IntegrationDisabled, IntegrationService, as_contract
from service.chatops.repository import IntegrationRepository
from service.kit.crypto import purpose_key
from service.kit.errors import Conflict, Forbidden, NotFound, Unauthenticated
from service.kit.openapi import SIGNED_REQUEST, problems
from service.kit.settings import Settings
from service.kit.strict_route import StrictRoute
from service.models import ChatApproval, ChatIntegration
from service.models.base import utcnow
from service.state import AppState, app_state

PATH = "/v1/chat/approvals/{approval_id}"
_HEADERS = {
    # The URL carries the signature: never sent onwards, never framed, never cached.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The page"},
    **problems(401, 403, 404, 409, 422),
}


class LinkNotValid(Unauthenticated):
    code, title = "approval_link_invalid", "Approval link not valid"


class DecideInChat(Forbidden):
    code, title = "second_approver_required", "Second approver required"


def _not_valid() -> LinkNotValid:
    return LinkNotValid("this approval link is not valid or has expired")


router = APIRouter(route_class=StrictRoute, tags=["chat-ops"])


def _key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    return purpose_key(secret, settings.data_dir, b"fcplane/chatops/approval-link/v1")


def _mac(settings: Settings, approval_id: str, decision: str, expires: int) -> str:
    message = f"{approval_id}\n{decision}\n{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_url(settings: Settings, approval_id: str, decision: str, expires: int) -> str:
    query = urlencode(
        {
            "decision": decision,
            "expires": expires,
            "sig": _mac(settings, approval_id, decision, expires),
        }
    )
    return f"{settings.resolved_public_url}{PATH.format(approval_id=approval_id)}?{query}"


def link_signer(settings: Settings, ttl_seconds: int) -> Callable[[Button], str]:
    """For DingTalk's renderer: each button's signed link, valid for ``ttl_seconds``."""
    expires = int(time.time()) + ttl_seconds

    def sign(button: Button) -> str:
        return signed_url(settings, button.approval_id, button.decision, expires)

    return sign


def _valid(settings: Settings, approval_id: str, decision: str, expires: int, sig: str) -> bool:
    if expires < time.time():
        return False
    return hmac.compare_digest(
        _mac(settings, approval_id, decision, expires).encode(), sig.encode()
    )


# -- the page ----------------------------------------------------------------------------

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
    "pre,code{background:#f4f4f4;padding:.1em .3em}th{text-align:left;padding-right:1em}"
    "button{font-size:1em;padding:.5em 1.5em}"
)


def _page(status: int, title: str, body: str) -> HTMLResponse:
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width'><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _approval_html(approval: ChatApproval) -> str:
    rows = [
        ("Change", approval.action),
        ("Requested by", approval.requested_by_name or approval.requested_by),
        ("Status", approval.status),
        ("Expires", approval.expires_at.isoformat(timespec="seconds")),
    ]
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    what = html.escape(json.dumps(approval.request, indent=2, sort_keys=True, default=str))
    return f"<table>{cells}</table><p>What will be applied:</p><pre>{what}</pre>"


def _reply_html(reply: Reply) -> str:
    parts = [f"<p><strong>{html.escape(reply.title)}</strong></p>"]
    if reply.text:
        parts.append(f"<pre>{html.escape(reply.text)}</pre>")
    if reply.fields:
        cells = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in reply.fields
        )
        parts.append(f"<table>{cells}</table>")
    return "".join(parts)


async def _load(state: AppState, approval_id: str) -> tuple[ChatApproval, ChatIntegration]:
    async with state.db.read() as session:
        approval = await ApprovalRepository(session).get(approval_id)
        integration = None
        if approval is not None:
            integration = await IntegrationRepository(session).get(approval.integration_id)
    if approval is None or integration is None:
        raise NotFound(f"approval {approval_id} does not exist (any more)")
    if not integration.enabled:
        # A disabled integration decides nothing, through chat or through its links.
        raise IntegrationDisabled(f"chat integration {integration.name!r} is disabled")
    return approval, integration


def _in_chat(approval_id: str, decision: str) -> str:
    command = html.escape(f"@fcplane {decision} {approval_id}")
    return (
        "<p>This integration requires a second approver, and a link cannot tell who "
        "opened it. Send this in the group instead, where DingTalk vouches for who you are:</p>"
        f"<pre>{command}</pre>"
    )


ApprovalId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.get(
    PATH,
    response_class=HTMLResponse,
    responses=_HTML,
    summary="Open a DingTalk approval link",
    openapi_extra=SIGNED_REQUEST,
)
async def approval_page(
    approval_id: ApprovalId,
    request: Request,
    decision: Annotated[str, Query(pattern="^(approve|reject)$")],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[str, Query(min_length=1, max_length=100)],
) -> HTMLResponse:
    """The page a DingTalk ActionCard button opens: what the approval will apply, and a
    confirm button. The link is signed, expires with the approval and works once; when
    a second approver is required the page asks for the decision in the chat instead."""
    state = app_state(request)
    if not _valid(state.settings, approval_id, decision, expires, sig):
        raise _not_valid()
    approval, integration = await _load(state, approval_id)
    details = _approval_html(approval)
    if approval.status != "pending":
        return _page(200, f"Already {approval.status}", details)
    if integration.require_second_approver:
        return _page(
            200, f"{decision.capitalize()} in the chat", details + _in_chat(approval_id, decision)
        )
    form = (
        f"<form method='post'><input type='hidden' name='decision' value='{decision}'>"
        f"<input type='hidden' name='expires' value='{expires}'>"
        f"<input type='hidden' name='sig' value='{html.escape(sig)}'>"
        f"<button type='submit'>{decision.capitalize()}</button></form>"
    )
    return _page(200, f"{decision.capitalize()} this change?", details + form)


@router.post(
    PATH,
    response_class=HTMLResponse,
    responses=_HTML,
    summary="Confirm a DingTalk approval link",
    openapi_extra=SIGNED_REQUEST,
)
async def confirm_approval(approval_id: ApprovalId, request: Request) -> HTMLResponse:
    """The page's form (decision, expires, sig as form fields): decide once, on behalf of
    the requester; refused when the integration requires a second approver."""
    state = app_state(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    decision, sig = form.get("decision", ""), form.get("sig", "")
    raw_expires = form.get("expires", "")
    # isascii: "²".isdigit() is true, int("²") raises.
    expires = (
        int(raw_expires)
        if raw_expires.isascii() and raw_expires.isdigit() and len(raw_expires) < 13
        else 0
    )
    if decision not in ("approve", "reject") or not _valid(
        state.settings, approval_id, decision, expires, sig
    ):
        raise _not_valid()
    approval, row = await _load(state, approval_id)
    if row.require_second_approver:
        command = f"@fcplane {decision} {approval_id}"
        raise DecideInChat(
            f"a link cannot tell who opened it: send `{command}` in the group instead",
            command=command,
        )
    if approval.status != "pending":
        raise Conflict(f"approval {approval_id} is already {approval.status}")
    # One decision per approval through links, whichever button: the approve and the
    # reject link of one approval are used up together.
    if not await receipts.first_time(
        state.db, approval.integration_id, [f"approval-link:{approval_id}"]
    ):
        raise Conflict(f"this approval link was already used ({approval_id})")
    from service.chatops.commands import decide  # the command layer; imported when used

    target = reply_target(approval.reply_to)
    action = ActionRequest(
        integration=as_contract(row),
        user=ChatUser(approval.requested_by, approval.requested_by_name, approval.channel),
        approval_id=approval_id,
        decision="approve" if decision == "approve" else "reject",
        reply_to=target,
        received_at=utcnow(),
    )
    reply = await decide(state, action)
    if target is not None and target.kind == "dingtalk_session_webhook":
        loaded = await IntegrationService(state.db, state.secret_box, state.settings).load(
            row.platform, row.name
        )
        origin = delivery.Origin(action.user, f"{decision} {approval_id}")
        delivery.spawn(delivery.Delivery(state, loaded).send(target, reply, origin))
    return _page(200, reply.title, _reply_html(reply))
