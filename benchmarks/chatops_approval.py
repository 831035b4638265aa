"""Time from an approval click to the deploy finished, next to the same deploy through
the API.

Both apply a saved plan (the same change: memorySize 512 ↔ 1024 on `hello`) to the
FC emulator running in its own process:

- chat: `deploy hello --plan ID` asked by one chat user (not timed), then the
  approval click — ``decide()`` as a platform endpoint calls it — timed until it
  returns the deployed reply: the user mapping read, the approval's conditional
  update, the apply (plan fingerprints, FC push and read-back), the approval's
  outcome and the audit event;
- API: ``POST /v1/plans/{id}/apply`` with a deploy token, through the ASGI app in
  the same process (so both sides pay the same in-process cost), timed until the
  201 arrives.

Rounds alternate chat and API; medians and p90 are reported, and the ratio of the
medians. fcplane runs in this process (``create_app`` and its lifespan) on a fresh
SQLite or PostgreSQL database; the emulator runs in its own process.

    python benchmarks/chatops_approval.py [--database sqlite|postgresql] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _common import (
    CONFIG,
    add_account,
    code_zip,
    create_function,
    emulator_process,
    free_port,
    migrate,
    percentile,
    stop,
    upload_code,
    wait_http,
    workspace,
)

from service.app import create_app
from service.auth.schemas import Scope
from service.chatops.commands import decide, run_command
from service.chatops.contract import (
    ActionRequest,
    ChatUser,
    CommandRequest,
    Integration,
    ReplyTarget,
)
from service.kit.settings import Settings

PLAN = "/v1/accounts/local/functions/hello/plan"
TARGET = ReplyTarget(kind="slack_response_url", url="https://hooks.slack.com/commands/T/1/x")


async def _saved_plan(api: httpx.AsyncClient, base: int, memory: int) -> str:
    body = {"config": {**CONFIG, "memorySize": memory}, "base_revision": base, "save": True}
    response = await api.post(PLAN, json=body)
    response.raise_for_status()
    return str(response.json()["id"])


async def _integration(api: httpx.AsyncClient) -> Integration:
    created = await api.post(
        "/v1/chat-integrations",
        json={"name": "bench", "platform": "slack", "secret": "bench-secret"},
    )
    created.raise_for_status()
    body = created.json()
    for user in ("UALICE", "UBOB"):
        mapped = await api.put(
            f"/v1/chat-integrations/{body['id']}/users/{user}", json={"scope": "deploy"}
        )
        mapped.raise_for_status()
    return Integration(
        id=body["id"],
        name=body["name"],
        platform="slack",
        default_scope=Scope.READ,
        require_second_approver=True,
        approval_ttl_seconds=900,
        channels=None,
    )


def _user(user_id: str) -> ChatUser:
    return ChatUser(platform_user_id=user_id, display_name=user_id.lower(), channel_id="C1")


def run(database: str, rounds: int) -> None:
    # The workspace (a PostgreSQL database is created with its own event loop) and the
    # emulator process are set up outside the loop the measurement runs in.
    with workspace(database, "fcplane-bench-chatops-") as (tmp, url):
        migrate(url)
        port = free_port()
        emulator = emulator_process(port, tmp / "emu")
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_http(f"{endpoint}/_emulator/health", emulator)
            chat, direct = asyncio.run(_serve(url, tmp, endpoint, rounds))
        finally:
            stop(emulator)
    _report(database, chat, direct)


async def _serve(
    url: str, tmp: Path, endpoint: str, rounds: int
) -> tuple[list[float], list[float]]:
    token = "fcp_bench_" + "t" * 32
    settings = Settings(
        database_url=url,
        data_dir=tmp / "api",
        secret_key="bench-secret-key-" + "k" * 32,
        bootstrap_token=token,
        drift_scan_interval_seconds=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://fcplane",
            headers=headers,
            timeout=60,
        ) as api:
            return await _measure(app.state.fcplane, api, endpoint, rounds)


async def _measure(
    state: Any, api: httpx.AsyncClient, endpoint: str, rounds: int
) -> tuple[list[float], list[float]]:
    await add_account(api, endpoint)
    head = await create_function(api, "hello", CONFIG, await upload_code(api, code_zip()))
    integration = await _integration(api)
    chat: list[float] = []
    direct: list[float] = []
    memory = CONFIG["memorySize"]
    for index in range(rounds * 2 + 2):
        memory = 1024 if memory == 512 else 512
        plan_id = await _saved_plan(api, head, memory)
        now = datetime.now(UTC)
        if index % 2 == 0:
            asked = await run_command(
                state,
                CommandRequest(
                    integration, _user("UALICE"), f"deploy hello --plan {plan_id}", TARGET, now
                ),
            )
            approval = asked.buttons[0].approval_id
            click = ActionRequest(integration, _user("UBOB"), approval, "approve", TARGET, now)
            started = time.perf_counter()
            reply = await decide(state, click)
            elapsed = time.perf_counter() - started
            if reply.tone != "success":
                raise RuntimeError(f"chat deploy failed: {reply}")
        else:
            started = time.perf_counter()
            response = await api.post(f"/v1/plans/{plan_id}/apply")
            elapsed = time.perf_counter() - started
            response.raise_for_status()
        head += 1
        if index >= 2:  # the first round of each is warm-up
            (chat if index % 2 == 0 else direct).append(elapsed * 1000)
    return chat, direct


def _report(database: str, chat: list[float], direct: list[float]) -> None:
    print(f"database: {database}, rounds: {len(chat)} each (alternating, after one warm-up each)")
    for label, values in (
        ("approval click → deployed", chat),
        ("POST /v1/plans/{id}/apply", direct),
    ):
        print(
            f"  {label:28s} median {statistics.median(values):7.1f} ms   "
            f"p90 {percentile(values, 0.9):7.1f} ms   min {min(values):7.1f} ms"
        )
    ratio = statistics.median(chat) / statistics.median(direct)
    extra = statistics.median(chat) - statistics.median(direct)
    print(f"  chat / API (medians): {ratio:.2f}x  ({extra:+.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    run(args.database, args.rounds)


if __name__ == "__main__":
    main()
