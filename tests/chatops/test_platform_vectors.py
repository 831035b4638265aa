"""The platforms' published vectors against fcplane's verifiers, and rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.chatops.contract import Button, Integration, Reply
from service.chatops.platforms import Unverified, command_text, dingtalk, feishu, slack
from service.kit.settings import Settings
from tests.chatops import support

# Slack's published example (docs "Verifying requests from Slack", and slack-sdk's tests).
SLACK_VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_VECTOR_TS = 1531420618
SLACK_VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    b"collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008"
    b"85554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c"
    b"447fce8b6703c"
)
SLACK_VECTOR_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
INTEGRATION = Integration(1, "ops", "slack", None, True, 900, None)


def _slack_headers(signature: str, ts: int = SLACK_VECTOR_TS) -> dict[str, str]:
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": signature}


def test_slack_published_vector_verifies() -> None:
    key = slack.verify(
        SLACK_VECTOR_SECRET,
        SLACK_VECTOR_BODY,
        _slack_headers(SLACK_VECTOR_SIG),
        now=SLACK_VECTOR_TS,
    )
    assert key.startswith("slack:v0=a2114d57")
    parsed = slack.parse_command(SLACK_VECTOR_BODY, INTEGRATION, datetime.now(UTC))
    assert parsed.user.platform_user_id == "U2CERLKJA"
    assert parsed.reply_to is not None
    assert parsed.reply_to.url is not None
    assert parsed.reply_to.url.startswith("https://hooks.slack.com/commands/")


@pytest.mark.parametrize(
    ("signature", "now", "reason"),
    [
        (SLACK_VECTOR_SIG[:-1] + "0", SLACK_VECTOR_TS, "does not match"),
        (SLACK_VECTOR_SIG, SLACK_VECTOR_TS + 301, "5 minutes"),
        (SLACK_VECTOR_SIG, SLACK_VECTOR_TS - 301, "5 minutes"),
    ],
)
def test_slack_wrong_signature_or_stale_timestamp_is_refused(
    signature: str, now: int, reason: str
) -> None:
    with pytest.raises(Unverified, match=reason):
        slack.verify(SLACK_VECTOR_SECRET, SLACK_VECTOR_BODY, _slack_headers(signature), now=now)


def test_slack_body_changed_after_signing_is_refused() -> None:
    with pytest.raises(Unverified):
        slack.verify(
            SLACK_VECTOR_SECRET,
            SLACK_VECTOR_BODY.replace(b"text=", b"text=deploy"),
            _slack_headers(SLACK_VECTOR_SIG),
            now=SLACK_VECTOR_TS,
        )


def test_dingtalk_sign_matches_the_documented_formula() -> None:
    # The computed example of the research note (from the documented formula).
    assert dingtalk.signature("this_is_app_secret", "1577262236757") == (
        "qnQC7rWq+RHKzqq4X90VPCjWH4RjrCc9qxor0hDOwrQ="
    )
    headers = {"timestamp": "1577262236757", "sign": "qnQC7rWq+RHKzqq4X90VPCjWH4RjrCc9qxor0hDOwrQ="}
    assert dingtalk.verify("this_is_app_secret", headers, now_ms=1577262236757 + 3_599_000)
    with pytest.raises(Unverified, match="an hour"):
        dingtalk.verify("this_is_app_secret", headers, now_ms=1577262236757 + 3_600_001)
    with pytest.raises(Unverified, match="does not match"):
        dingtalk.verify("other_secret", headers, now_ms=1577262236757)


def test_feishu_published_decrypt_vector() -> None:
    assert feishu.decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == (
        "hello world"
    )
    # And fcplane's encryption round-trips through the test helper's independent one.
    assert feishu.decrypt(support.FEISHU_KEY, support.feishu_encrypt("abc")) == "abc"


def test_feishu_signature_matches_the_documented_formula() -> None:
    body = b'{"encrypt":"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}'
    assert feishu.signature("test key", "1608725989", "abc123", body) == (
        "cc7196ad09cc004519c0b09df52f212c9026c37f2f8383b846bf55394cdbbeee"
    )


def test_feishu_encrypted_url_verification_needs_the_token() -> None:
    challenge = {"challenge": "c-1", "token": support.FEISHU_TOKEN, "type": "url_verification"}
    body = json.dumps({"encrypt": support.feishu_encrypt(json.dumps(challenge))}).encode()
    opened = feishu.open_request(support.FEISHU_KEY, support.FEISHU_TOKEN, body, {})
    assert opened == feishu.Challenge("c-1")
    with pytest.raises(Unverified, match="Verification Token"):
        feishu.open_request(support.FEISHU_KEY, "another-token", body, {})
    with pytest.raises(Unverified, match="decrypt"):
        feishu.open_request("wrong key", support.FEISHU_TOKEN, body, {})


def test_command_text_drops_the_bot_name_and_extra_spaces() -> None:
    assert command_text("  fcplane   plan  hello --env prod ") == "plan hello --env prod"
    assert command_text("/fcplane status hello") == "status hello"
    assert command_text("status fcplane-api") == "status fcplane-api"


REPLY = Reply(
    title="Deploy hello?",
    text="1 change",
    fields=[("function", "hello")],
    table=[["field", "from", "to"], ["memorySize", "512", "1024"]],
    links=[("plan", "https://fcplane.example.com/plan")],
    buttons=[
        Button("Approve", "approve", "ap-1", confirm="Deploy hello to prod?"),
        Button("Reject", "reject", "ap-1"),
    ],
)


def test_slack_rendering_has_buttons_with_confirm_and_a_code_table() -> None:
    message = slack.render(REPLY)
    assert message["response_type"] == "in_channel"
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [a["value"] for a in actions] == ["approve:ap-1", "reject:ap-1"]
    assert actions[0]["style"] == "primary"
    assert actions[1]["style"] == "danger"
    assert actions[0]["confirm"]["text"]["text"] == "Deploy hello to prod?"
    assert "confirm" not in actions[1]
    assert any("```" in b.get("text", {}).get("text", "") for b in message["blocks"])
    edit = slack.render(Reply(title="Approved"), replace_original=True)
    assert edit["replace_original"] is True
    assert "response_type" not in edit


def test_dingtalk_rendering_links_buttons_to_signed_pages() -> None:
    from service.chatops.approval_page import link_signer

    settings = Settings(
        secret_key="k" * 16 + "-chatops-test-key-0123", public_url=support.PUBLIC_URL
    )
    card, fallback = dingtalk.render(REPLY, link_signer(settings, 900))
    buttons = card["actionCard"]["btns"]
    assert buttons[0]["actionURL"].startswith(f"{support.PUBLIC_URL}/v1/chat/approvals/ap-1?")
    assert "decision=approve" in buttons[0]["actionURL"]
    assert "sig=" in buttons[0]["actionURL"]
    assert buttons[0]["actionURL"] != buttons[1]["actionURL"]
    assert fallback["msgtype"] == "markdown"
    assert buttons[1]["actionURL"] in fallback["markdown"]["text"]


def test_feishu_rendering_buttons_carry_approval_and_decision() -> None:
    card = feishu.render(REPLY)
    actions = next(e for e in card["elements"] if e["tag"] == "action")["actions"]
    assert actions[0]["value"] == {"approval_id": "ap-1", "decision": "approve"}
    assert actions[1]["type"] == "danger"
    response = feishu.card_response(Reply(title="Approved", tone="success"))
    assert response["toast"]["type"] == "success"
    assert response["card"]["type"] == "raw"
