"""DingTalk's approval page: signed, expiring, one-time links; a link never stands in
for a second approver."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.chatops import delivery
from service.chatops.approval_page import signed_url
from service.kit.db import Database
from service.kit.settings import Settings
from service.models import ChatApproval
from service.models.base import utcnow
from tests.chatops import support
from tests.webhooks.receiver import Receiver


@pytest.fixture
def settings(database_url: str, tmp_path: Path, admin_token: str) -> Settings:
    return support.fast_settings(database_url, tmp_path, admin_token)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


async def _approval(db: Database, integration_id: int, reply_url: str | None = None) -> str:
    approval_id = str(uuid.uuid4())
    reply_to = None
    if reply_url:
        expires = (utcnow() + timedelta(hours=1)).isoformat()
        reply_to = {"kind": "dingtalk_session_webhook", "url": reply_url, "expires_at": expires}
    async with db.write() as session:
        session.add(
            ChatApproval(
                id=approval_id,
                integration_id=integration_id,
                action="deploy",
                request={"account": "local", "function": "hello", "revision": 3},
                requested_by="staff-alice",
                requested_by_name="Alice <script>",
                channel="cid-ops",
                status="pending",
                expires_at=utcnow() + timedelta(minutes=15),
                reply_to=reply_to,
            )
        )
    return approval_id


def _link(settings: Settings, approval_id: str, decision: str, expires: int | None = None) -> str:
    url = signed_url(settings, approval_id, decision, expires or int(time.time()) + 600)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _form(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


async def _robot(client: httpx.AsyncClient, second: bool) -> dict[str, Any]:
    return await support.integration(
        client,
        name="ding",
        platform="dingtalk",
        secret=support.DINGTALK_SECRET,
        require_second_approver=second,
    )


async def test_second_approver_required_page_asks_for_the_chat_command(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    robot = await _robot(client, second=True)
    approval_id = await _approval(db, robot["id"])
    link = _link(settings, approval_id, "approve")
    page = await anonymous.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"@fcplane approve {approval_id}" in page.text
    assert "<form" not in page.text
    assert "<script>" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    posted = await anonymous.post(f"/v1/chat/approvals/{approval_id}", data=_form(link))
    assert posted.status_code == 403
    assert posted.json()["command"] == f"@fcplane approve {approval_id}"


async def test_link_confirms_once(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    receiver: Receiver,
) -> None:
    robot = await _robot(client, second=False)
    approval_id = await _approval(db, robot["id"], receiver.url)
    link = _link(settings, approval_id, "reject")
    page = await anonymous.get(link)
    assert page.status_code == 200
    assert "<form method='post'>" in page.text
    assert "hello" in page.text  # what will change
    first = await anonymous.post(f"/v1/chat/approvals/{approval_id}", data=_form(link))
    assert first.status_code in (200, 409), first.text
    again = await anonymous.post(f"/v1/chat/approvals/{approval_id}", data=_form(link))
    assert again.status_code == 409
    approve = _link(settings, approval_id, "approve")
    other = await anonymous.post(f"/v1/chat/approvals/{approval_id}", data=_form(approve))
    assert other.status_code == 409  # the approval's links are used up together
    assert other.json()["code"] == "conflict"
    if first.status_code == 200:
        await delivery.pending()
        assert len(receiver.received()) == 1  # the outcome went to the group too


@pytest.mark.parametrize("tamper", ["sig", "decision", "expired", "other-approval"])
async def test_tampered_or_expired_links_are_refused(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    tamper: str,
) -> None:
    robot = await _robot(client, second=False)
    approval_id = await _approval(db, robot["id"])
    link = _link(settings, approval_id, "approve")
    target = approval_id
    if tamper == "sig":
        link = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    elif tamper == "decision":
        link = link.replace("decision=approve", "decision=reject")
    elif tamper == "expired":
        link = _link(settings, approval_id, "approve", expires=int(time.time()) - 1)
    else:
        target = await _approval(db, robot["id"])
        link = link.replace(approval_id, target)
    page = await anonymous.get(link)
    assert page.status_code == 401, page.text
    assert page.json()["code"] == "approval_link_invalid"
    posted = await anonymous.post(f"/v1/chat/approvals/{target}", data=_form(link))
    assert posted.status_code == 401


async def test_unknown_approval_and_bad_query(
    anonymous: httpx.AsyncClient, settings: Settings
) -> None:
    missing = str(uuid.uuid4())
    assert (await anonymous.get(_link(settings, missing, "approve"))).status_code == 404
    bad = await anonymous.get(f"/v1/chat/approvals/{missing}?decision=maybe&expires=1&sig=x")
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.status_code == 422


async def test_a_disabled_integration_s_links_decide_nothing(
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
) -> None:
    robot = await _robot(client, second=False)
    approval_id = await _approval(db, robot["id"])
    link = _link(settings, approval_id, "approve")
    disabled = await client.patch(f"/v1/chat-integrations/{robot['id']}", json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    page = await anonymous.get(link)
    assert page.status_code == 403
    assert page.json()["code"] == "integration_disabled"
    confirm = await anonymous.post(f"/v1/chat/approvals/{approval_id}", data=_form(link))
    assert confirm.status_code == 403
    assert confirm.json()["code"] == "integration_disabled"
    async with db.read() as session:
        approval = await session.get(ChatApproval, approval_id)
    assert approval is not None
    assert approval.status == "pending"
