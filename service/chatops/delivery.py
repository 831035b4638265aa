"""Answering after the acknowledgement: run the command in a task, answer inline when
it is quick, otherwise deliver its reply with retries; record what cannot be delivered.

Why an in-process task and not an arq job: the answer is only deliverable for a
short while (Slack's response_url 30 minutes and 5 uses, DingTalk's sessionWebhook
until its expiry, about 90 minutes), the command itself already runs its long
parts as jobs (deploys, stress), and the embedded setup has no Redis. A task
answers in milliseconds; the price is that a reply in flight when the process
stops gets a few seconds to finish (``drain``); one still unfinished is given up,
logged at shutdown, and the audit trail shows its command.
Every delivery that fails after its retries is recorded as a chat event
(kind ``command``, outcome ``failed``, detail ``reply not delivered: …``) and
logged: nothing is lost silently.

Outbound calls go through the webhooks' transport: the destination policy
(FCPLANE_WEBHOOK_ALLOWED_HOSTS), no redirects, no URL in logs or errors. Reply
URLs taken from request bodies must also be on the platform's own hosts
(``hooks.slack.com``, ``oapi.dingtalk.com``) unless listed in the allowed hosts.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from service.chatops import audit
from service.chatops.audit import EventKind, EventOutcome, Trace
from service.chatops.commands.repository import ApprovalRepository
from service.chatops.contract import ChatUser, Reply, ReplyTarget
from service.chatops.integrations import Loaded
from service.chatops.platforms import dingtalk, feishu, slack
from service.models.base import utcnow
from service.state import AppState
from service.webhooks.dispatcher import RetryPolicy
from service.webhooks.messages import Request
from service.webhooks.schemas import Format, Outcome
from service.webhooks.transport import AttemptResult, attempt, new_client
from service.webhooks.url_safety import DestinationPolicy

log = logging.getLogger(__name__)

ATTEMPTS = 4
MAX_RETRY_DELAY_SECONDS = 30.0
FEISHU_API = "https://open.feishu.cn"
PLATFORM_HOSTS = {
    "slack": {"hooks.slack.com"},
    "dingtalk": {"oapi.dingtalk.com", "api.dingtalk.com"},
}
# Feishu message ids (om_…) go into a URL path: nothing else may.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_tasks: set[asyncio.Task[Any]] = set()
_slack_uses: dict[str, int] = {}
_feishu_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def spawn(work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """A background task kept referenced until it ends (the loop keeps weak refs only)."""
    task = asyncio.create_task(work)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


async def pending() -> None:
    """Wait for the replies in flight (tests, benchmarks)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def drain(timeout: float) -> None:
    """At shutdown: let the replies in flight finish for up to ``timeout`` seconds, and
    say how many are given up (they are not lost silently)."""
    if not _tasks:
        return
    _, unfinished = await asyncio.wait(list(_tasks), timeout=timeout)
    if unfinished:
        log.warning("shutting down with %d chat replies not delivered", len(unfinished))


FAILED_REPLY = Reply(
    title="Something went wrong",
    text="fcplane could not answer this; the error is in its log.",
    tone="error",
)


async def _safely(work: Awaitable[Reply]) -> Reply:
    try:
        return await work
    except Exception:
        log.exception("a chat command failed")
        return FAILED_REPLY


async def respond(
    work: Awaitable[Reply], send: Callable[[Reply], Awaitable[None]], inline_seconds: float
) -> Reply | None:
    """The reply when ``work`` finishes within ``inline_seconds`` (the caller puts it in
    the HTTP response); otherwise None, and ``send`` delivers it when it is ready."""
    handed_off = False

    async def run() -> Reply:
        reply = await _safely(work)
        if handed_off:
            await send(reply)
        return reply

    task = spawn(run())
    try:
        if inline_seconds > 0:
            await asyncio.wait({task}, timeout=inline_seconds)
        if task.done():
            return task.result()  # type: ignore[no-any-return]
    finally:
        # Also when the platform hung up meanwhile: the reply still goes out.
        handed_off = not task.done()
    return None


@dataclass(frozen=True)
class Origin:
    """Who asked, for the failure record."""

    user: ChatUser
    what: str


async def approval_pending(state: AppState, approval_id: str) -> bool:
    """Whether the approval still waits: after a button press, a click that was refused
    (wrong person, missing scope) leaves it pending and must not replace the message
    the buttons are on."""
    async with state.db.read() as session:
        approval = await ApprovalRepository(session).get(approval_id)
    return approval is not None and approval.status == "pending"


class Delivery:
    """Delivers one integration's replies; ``record`` keeps the failures."""

    def __init__(self, state: AppState, loaded: Loaded) -> None:
        self.state = state
        self.loaded = loaded
        self.settings = state.settings
        self.policy = DestinationPolicy(state.settings.webhook_allowed_hosts)

    def _reply_url_refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and host in PLATFORM_HOSTS[self.loaded.integration.platform]:
            return None
        if self.policy.allows_name(host):
            return None
        try:
            if self.policy.listed(ipaddress.ip_address(host)):
                return None
        except ValueError:
            pass  # a name, not an address
        return f"reply URL host {host or '?'} is not the platform's (nor an allowed host)"

    async def _post(
        self,
        fmt: Format,
        url: str,
        payload: object,
        headers: dict[str, str] | None = None,
        attempts: int = ATTEMPTS,
    ) -> tuple[AttemptResult | None, str | None]:
        """(the last result, None) when delivered, else (result, error)."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        request = Request(
            body=body,
            headers={"content-type": "application/json; charset=utf-8", **(headers or {})},
        )
        result: AttemptResult | None = None
        retry = RetryPolicy.from_settings(self.settings)
        async with new_client() as client:
            for number in range(attempts):
                if result is not None:
                    # The webhooks' backoff (jitter, Retry-After), kept short: reply
                    # addresses expire within minutes.
                    delay = retry.delay(number, result.retry_after)
                    await asyncio.sleep(min(delay, MAX_RETRY_DELAY_SECONDS))
                result = await attempt(
                    client, self.policy, fmt, url, request, self.settings.webhook_timeout_seconds
                )
                if result.outcome is Outcome.DELIVERED:
                    return result, None
                if result.outcome is not Outcome.RETRY:
                    break
        return result, (result.error if result else None) or "not delivered"

    async def record(self, origin: Origin, error: str) -> None:
        integration = self.loaded.integration
        log.warning(
            "chat reply not delivered (%s integration %s): %s",
            integration.platform,
            integration.name,
            error,
        )
        # The audit trail's own kinds and outcomes: a command whose answer failed.
        trace = Trace(EventKind.COMMAND, EventOutcome.FAILED, f"reply not delivered: {error}")
        try:
            await audit.record(self.state.db, integration, origin.user, origin.what, trace)
        except Exception:
            log.exception("could not record a failed chat reply")

    # -- per platform --------------------------------------------------------------------

    async def slack(self, target: ReplyTarget, message: dict[str, Any]) -> str | None:
        if not target.url:
            return "no response_url"
        if target.expires_at is not None and utcnow() > target.expires_at:
            return "Slack's response_url expired (30 minutes)"
        refusal = self._reply_url_refusal(target.url)
        if refusal:
            return refusal
        key = hashlib.sha256(target.url.encode()).hexdigest()
        if _slack_uses.get(key, 0) >= slack.RESPONSE_URL_USES:
            return "Slack's response_url was already used 5 times"
        if len(_slack_uses) > 10_000:
            _slack_uses.clear()
        _slack_uses[key] = _slack_uses.get(key, 0) + 1
        # Few attempts: each may count as one of the response_url's five uses.
        return (await self._post(Format.SLACK, target.url, message, attempts=2))[1]

    async def dingtalk(self, target: ReplyTarget, payloads: list[dict[str, Any]]) -> str | None:
        if not target.url:
            return "no sessionWebhook"
        if target.expires_at is not None and utcnow() > target.expires_at:
            return "DingTalk's sessionWebhook expired"
        refusal = self._reply_url_refusal(target.url)
        if refusal:
            return refusal
        error: str | None = "nothing to send"
        for index, payload in enumerate(payloads):  # best first: ActionCard, then markdown
            # A form DingTalk may not take gets two tries; the last form all of them.
            attempts = ATTEMPTS if index == len(payloads) - 1 else 2
            _, error = await self._post(Format.DINGTALK, target.url, payload, attempts=attempts)
            if error is None:
                return None
        return error

    async def _feishu_token(self) -> tuple[str | None, str | None]:
        credentials = self.loaded.credentials
        if not credentials.app_id or not credentials.app_secret:
            return None, "the integration has no app_id/app_secret to reply with"
        base = (credentials.api_base_url or FEISHU_API).rstrip("/")
        cached = _feishu_tokens.get((base, credentials.app_id))
        if cached and cached[1] > time.monotonic():
            return cached[0], None
        result, error = await self._post(
            Format.FEISHU,
            f"{base}/open-apis/auth/v3/tenant_access_token/internal",
            {"app_id": credentials.app_id, "app_secret": credentials.app_secret},
        )
        if error is not None or result is None:
            return None, f"tenant_access_token: {error}"
        try:
            answer = json.loads(result.excerpt or "")
            token, expire = str(answer["tenant_access_token"]), int(answer.get("expire", 7200))
        except (ValueError, KeyError, TypeError):
            return None, "tenant_access_token: unexpected answer"
        # Renewed half an hour early, as Feishu issues a new one in its last 30 minutes.
        _feishu_tokens[(base, credentials.app_id)] = (
            token,
            time.monotonic() + max(60, expire - 1800),
        )
        return token, None

    async def feishu(self, target: ReplyTarget, card: dict[str, Any]) -> str | None:
        if not target.message_id or not _MESSAGE_ID.fullmatch(target.message_id):
            return "no message to reply to"
        token, error = await self._feishu_token()
        if token is None:
            return error
        base = (self.loaded.credentials.api_base_url or FEISHU_API).rstrip("/")
        content = json.dumps(card, ensure_ascii=False, separators=(",", ":"))
        # The same uuid on every retry: Feishu sends one reply per uuid, so a retry of
        # an attempt that did arrive does not post twice.
        uuid = hashlib.sha256((target.message_id + content).encode()).hexdigest()[:50]
        body = {"msg_type": "interactive", "content": content, "uuid": uuid}
        url = f"{base}/open-apis/im/v1/messages/{target.message_id}/reply"
        return (await self._post(Format.FEISHU, url, body, {"authorization": f"Bearer {token}"}))[1]

    async def send(
        self,
        target: ReplyTarget | None,
        reply: Reply,
        origin: Origin,
        *,
        replace_original: bool | None = None,
        sign_link: Callable[[Any], str] | None = None,
    ) -> None:
        """Render ``reply`` for the platform and deliver it; a failure is recorded."""
        try:
            if target is None:
                error: str | None = "the request named no place to answer"
            elif target.kind == "slack_response_url":
                error = await self.slack(
                    target, slack.render(reply, replace_original=replace_original)
                )
            elif target.kind == "dingtalk_session_webhook":
                error = await self.dingtalk(
                    target, dingtalk.render(reply, sign_link or (lambda b: ""))
                )
            else:
                error = await self.feishu(target, feishu.render(reply))
        except Exception as exc:
            log.exception("a chat reply failed")
            error = f"internal error ({type(exc).__name__})"
        if error is not None:
            await self.record(origin, error)
