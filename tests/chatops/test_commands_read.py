"""help, status, drift, jobs, plan — and what a user who typed something wrong is told."""

from __future__ import annotations

import httpx
from alibabacloud_fc20230330.client import Client
from fastapi import FastAPI

from tests.chatops.chat_commands import ALICE, CAROL, events, field, open_chat, table_text
from tests.deploys.conftest import first_deploy, sdk_update


async def test_help_lists_the_commands_and_marks_what_the_user_may_not_run(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    chat = await open_chat(client, app)
    reply = await chat.say("help", CAROL)
    table = table_text(reply)
    for name in ("status", "plan", "deploy", "drift", "rollback", "stress", "jobs", "approve"):
        assert f"\n{name}" in table
    assert "deploy [function|project]" in table
    assert "deploy (not for you)" in table
    assert "You have the `read` scope" in reply.text
    # An empty message is help too; help on one command shows its flags.
    assert (await chat.say("", CAROL)).title == "fcplane commands"
    one = await chat.say("help stress", CAROL)
    assert "`stress <function> <duration> <users|rps>" in one.text
    assert "--target" in one.text


async def test_status_of_a_function(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    first = await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    reply = await chat.say("status hello", CAROL)
    assert reply.title == "local/hello"
    assert field(reply, "head revision") == "1"
    assert field(reply, "applied").startswith("revision 1 at ")
    assert field(reply, "last deploy").startswith("deploy succeeded → revision 1")
    assert first["id"] in field(reply, "last deploy")
    # --account and the function's account agree; a wrong account is named.
    assert (await chat.say("status hello --account local", CAROL)).title == "local/hello"
    missing = await chat.say("status hello --account prod", CAROL)
    assert missing.tone == "error"
    assert "no account `prod`" in missing.text


async def test_drift_reads_for_everyone_and_checks_with_deploy(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    sdk_update(fc, "hello", timeout=20)
    refused = await chat.say("drift hello --check", CAROL)
    assert "needs the `deploy` scope" in refused.text
    checked = await chat.say("drift hello --check", ALICE)
    assert checked.title == "local/hello: drifted"
    assert "remote | timeout | 3 | 20" in table_text(checked)
    # Read users see the recorded result.
    seen = await chat.say("drift hello", CAROL)
    assert seen.title == "local/hello: drifted"
    assert "timeout" in table_text(seen)
    everything = await chat.say("drift", CAROL)
    assert everything.title == "1 function(s) drifted"
    assert "local/hello" in table_text(everything)


async def test_plan_shows_the_plan_and_needs_deploy(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    assert "needs the `deploy` scope" in (await chat.say("plan hello", CAROL)).text
    clean = await chat.say("plan hello", ALICE)
    assert clean.title == "Plan for local/hello (revision 1)"
    assert clean.table is None
    sdk_update(fc, "hello", memory_size=1024)
    drifted = await chat.say("plan hello --env local", ALICE)
    assert drifted.tone == "warning"
    assert "remote | memorySize | 512 | 1024" in table_text(drifted)
    assert field(drifted, "drifted") == "yes"
    saved = (
        await client.post(
            "/v1/accounts/local/functions/hello/plan",
            json={
                "config": {"runtime": "python3.10", "handler": "index.handler"},
                "save": True,
                "base_revision": 1,
            },
        )
    ).json()
    shown = await chat.say(f"plan --plan {saved['id']}", ALICE)
    assert shown.title == "Saved plan for local/hello"
    assert field(shown, "plan") == saved["id"]


async def test_mistakes_get_helpful_replies_and_are_audited(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    cases = {
        "stauts hello": "Did you mean `status`?",
        "status": "Usage: `status <function> [--account A]`",
        "status helo": "Did you mean `hello`?",
        "status hello --acount local": "`status` has no flag --acount",
        "status hello --account": "--account needs a value",
        'status "hello': "quote is not closed",
        "jobs 0000": "no job 0000",
        "approve 1234": "There is no approval `1234`",
        "stress hello 30 sec": "load `sec`",
        "stress hello forever 10users": "duration `forever`",
    }
    for text, expected in cases.items():
        reply = await chat.say(text, ALICE)
        assert reply.tone == "error", (text, reply)
        assert expected in reply.text, (text, reply.text)
    trail = await events(client, user="U0ALICE", limit=50)
    assert len(trail) == len(cases)
    assert {e["outcome"] for e in trail} == {"failed"}
    assert trail[-1]["command"] == "stauts hello"


async def test_jobs_command_reads_a_job(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    await first_deploy(client, "hello")
    chat = await open_chat(client, app)
    queued = await client.post(
        "/v1/jobs",
        json={"kind": "stress", "function": "hello", "params": {"duration_s": 1, "users": 1}},
    )
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["id"]
    reply = await chat.say(f"jobs {job_id}", CAROL)
    assert reply.title == f"job {job_id}"
    assert field(reply, "kind") == "stress"
    assert field(reply, "function") == "local/hello"
    assert field(reply, "status") in ("queued", "running", "succeeded")


async def test_secret_values_never_reach_the_channel(
    client: httpx.AsyncClient, app: FastAPI, fc: Client, fc_account: str
) -> None:
    """A reply is read by everyone in the channel, whatever their scope: a change to a
    secret-looking variable shows as *** in the plan's text and table; others do not."""
    await first_deploy(client, "hello", environmentVariables={"DB_PASSWORD": "old-pw-1234"})
    chat = await open_chat(client, app)
    sdk_update(
        fc,
        "hello",
        environment_variables={"DB_PASSWORD": "new-pw-5678", "REGION": "cn-shanghai"},
    )
    drifted = await chat.say("plan hello", ALICE)
    shown = drifted.text + table_text(drifted)
    assert "environmentVariables.DB_PASSWORD" in shown
    for secret in ("old-pw-1234", "new-pw-5678"):
        assert secret not in shown
    assert "***" in drifted.text
    assert "cn-shanghai" in shown
