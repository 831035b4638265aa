"""Inbound chat endpoints: Slack slash commands and buttons, DingTalk robot callbacks,
Feishu events and card callbacks.

Each request is verified (signature, timestamp window) and taken once (replay
receipts) before anything runs; an unverified or replayed request gets 401 with
nothing executed. The platform gets its acknowledgement within its deadline (3 s):
a command that finishes within ``INLINE_SECONDS`` is answered in the response,
anything slower is acknowledged at once and answered through ``delivery``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from service.chatops import delivery, receipts
from service.chatops.approval_page import link_signer
from service.chatops.contract import ActionRequest, CommandRequest, Reply
from service.chatops.integrations import IntegrationService, Loaded
from service.chatops.platforms import Replayed, dingtalk, feishu, slack
from service.chatops.schemas import INTEGRATION_NAME
from service.kit.openapi import SIGNED_REQUEST, problems
from service.kit.strict_route import StrictRoute
from service.models.base import utcnow
from service.state import AppState, app_state

# Inside Slack's and Feishu's 3 seconds, with room for the network.
INLINE_SECONDS = 2.0

router = APIRouter(
    route_class=StrictRoute, tags=["chat-ops"], responses=problems(401, 403, 404, 422)
)
Name = Annotated[
    str, Path(pattern=INTEGRATION_NAME, max_length=64, description="The integration's name.")
]
_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Acknowledged (the platform's own answer format)",
        "content": {"application/json": {}},
    }
}


async def _inbound(request: Request, platform: str, name: str) -> tuple[AppState, Loaded, bytes]:
    state = app_state(request)
    loaded = await IntegrationService(state.db, state.secret_box, state.settings).load(
        platform, name
    )
    return state, loaded, await request.body()


async def _take_once(state: AppState, loaded: Loaded, *keys: str) -> bool:
    return await receipts.first_time(state.db, loaded.integration.id, keys)


async def _run_command(state: AppState, command: CommandRequest) -> Reply:
    from service.chatops.commands import run_command  # the command layer (imported when used)

    return await run_command(state, command)


async def _decide(state: AppState, action: ActionRequest) -> Reply:
    from service.chatops.commands import decide

    return await decide(state, action)


def _sender(
    state: AppState, loaded: Loaded, request: CommandRequest | ActionRequest, **options: Any
) -> Callable[[Reply], Awaitable[None]]:
    """Delivers a reply to where ``request`` came from (recording a failure)."""
    what = (
        request.text
        if isinstance(request, CommandRequest)
        else f"{request.decision} {request.approval_id}"
    )
    origin = delivery.Origin(request.user, what)
    outbound = delivery.Delivery(state, loaded)

    async def send(reply: Reply) -> None:
        await outbound.send(request.reply_to, reply, origin, **options)

    return send


@router.post(
    "/v1/chat/slack/{integration}/commands",
    responses=_OK,
    summary="Slack slash command",
    openapi_extra=SIGNED_REQUEST,
)
async def slack_command(integration: Name, request: Request) -> Response:
    """The Request URL of the Slack app's slash command (form body, signed with the
    app's Signing Secret). Quick answers come in the response; slower ones as
    "Working on it…" first, then through `response_url`."""
    state, loaded, body = await _inbound(request, "slack", integration)
    if slack.is_ssl_check(body):
        # Slack's certificate check (as Bolt, not verified): answered, nothing runs.
        return Response(status_code=200)
    key = slack.verify(loaded.credentials.secret, body, request.headers)
    command = slack.parse_command(body, loaded.integration, utcnow())
    if not await _take_once(state, loaded, key):
        raise Replayed("this request was already taken")
    work = _run_command(state, command)
    reply = await delivery.respond(work, _sender(state, loaded, command), INLINE_SECONDS)
    return JSONResponse(slack.WORKING if reply is None else slack.render(reply))


@router.post(
    "/v1/chat/slack/{integration}/interactions",
    responses=_OK,
    summary="Slack button press",
    openapi_extra=SIGNED_REQUEST,
)
async def slack_interaction(integration: Name, request: Request) -> Response:
    """The Interactivity Request URL of the Slack app: Approve / Reject buttons
    (`block_actions`). Acknowledged at once; the outcome replaces the message."""
    state, loaded, body = await _inbound(request, "slack", integration)
    key = slack.verify(loaded.credentials.secret, body, request.headers)
    action = slack.parse_action(body, loaded.integration, utcnow())
    if not await _take_once(state, loaded, key):
        raise Replayed("this request was already taken")
    replace = _sender(state, loaded, action, replace_original=True)
    tell_clicker = _sender(state, loaded, action, replace_original=False)

    async def send(reply: Reply) -> None:
        # The outcome replaces the approval message; a refused click (the requester,
        # a missing scope) is told to the clicker only and leaves the buttons.
        if await delivery.approval_pending(state, action.approval_id):
            await tell_clicker(dataclasses.replace(reply, in_channel=False))
        else:
            await replace(reply)

    await delivery.respond(_decide(state, action), send, 0)
    return Response(status_code=200)


@router.post(
    "/v1/chat/dingtalk/{integration}",
    responses=_OK,
    summary="DingTalk robot callback",
    openapi_extra=SIGNED_REQUEST,
)
async def dingtalk_message(integration: Name, request: Request) -> Response:
    """The HTTP message receiving address of a DingTalk app robot (headers `timestamp`
    and `sign`). Acknowledged at once with `{}`; the answer goes to the message's
    `sessionWebhook`, approval buttons as links to the signed approval page."""
    state, loaded, body = await _inbound(request, "dingtalk", integration)
    key = dingtalk.verify(loaded.credentials.secret, request.headers)
    command, message_key = dingtalk.parse(body, loaded.integration, utcnow())
    if not await _take_once(state, loaded, key):
        raise Replayed("this request was already taken")
    if not await _take_once(state, loaded, message_key):
        # A new sign for a message already taken: DingTalk sending it again. 200, once.
        return JSONResponse({})
    signer = link_signer(state.settings, loaded.integration.approval_ttl_seconds)
    await delivery.respond(
        _run_command(state, command), _sender(state, loaded, command, sign_link=signer), 0
    )
    # Whether DingTalk still posts a response body as a reply is not documented
    # today: the answer goes through sessionWebhook only, the body stays empty.
    return JSONResponse({})


@router.post(
    "/v1/chat/feishu/{integration}",
    responses=_OK,
    summary="Feishu event or card callback",
    openapi_extra=SIGNED_REQUEST,
)
async def feishu_event(integration: Name, request: Request) -> Response:
    """The Request URL of a Feishu app's event subscription and card callbacks:
    url_verification (plain or encrypted), `im.message.receive_v1` (answered through
    Feishu's reply API) and `card.action.trigger` (answered in the response: a toast
    and the updated card). Events must be encrypted and signed (Encrypt Key)."""
    state, loaded, body = await _inbound(request, "feishu", integration)
    credentials = loaded.credentials
    opened = feishu.open_request(
        credentials.secret, credentials.verification_token, body, request.headers
    )
    if isinstance(opened, feishu.Challenge):
        return JSONResponse({"challenge": opened.challenge})
    kind = feishu.event_type(opened)
    received_at = utcnow()
    if kind == "im.message.receive_v1":
        command, message_key = feishu.parse_message(opened, loaded.integration, received_at)
        # Feishu delivers at least once: a second copy gets 200 and nothing runs.
        if await _take_once(state, loaded, feishu.event_id(opened), message_key):
            await delivery.respond(_run_command(state, command), _sender(state, loaded, command), 0)
        return JSONResponse({"msg": "success"})
    if kind == "card.action.trigger":
        action = feishu.parse_card_action(opened, loaded.integration, received_at)
        if not await _take_once(state, loaded, feishu.event_id(opened)):
            return JSONResponse({})
        reply = await delivery.respond(
            _decide(state, action), _sender(state, loaded, action), INLINE_SECONDS
        )
        if reply is None:
            return JSONResponse(feishu.WORKING_TOAST)
        if await delivery.approval_pending(state, action.approval_id):
            return JSONResponse(feishu.refusal_toast(reply))  # the card stays as it is
        return JSONResponse(feishu.card_response(reply))
    return JSONResponse({"msg": "ignored"})
