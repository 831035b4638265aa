"""Time to acknowledge a Slack slash command under 20 concurrent commands.

Slack shows `operation_timeout` unless the HTTP answer arrives within 3 s. fcplane
answers a command inline when it finishes within 2 s and otherwise acknowledges
with "Working on it…" and answers through response_url. This measures, against a
real server (uvicorn, SQLite or PostgreSQL, the FC emulator in its own process),
the round trip of signed `POST /v1/chat/slack/{name}/commands` requests sent 20 at
a time, for `help` (no FC call), `status hello` and `plan hello` (FC calls), and
reports p50/p99/max, how many were answered inline, and how many answers later
reached the loopback response_url receiver.

Then, one at a time, the time from a second user's Approve click (the signed
interaction request) until the outcome ("Deployed …") reaches response_url, for a
chat deploy of a saved plan, against the same change deployed through
`POST …/deployments` (its round trip), alternating memorySize within what 0.35 vCPU allows.

    python benchmarks/chatops.py [--database sqlite|postgresql] [--rounds 10]
                                 [--concurrency 20] [--deploys 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
import uuid
from urllib.parse import urlencode

import httpx
from _common import (
    CONFIG,
    Receive,
    Scope,
    Send,
    Stack,
    add_account,
    code_zip,
    create_function,
    fcplane_stack,
    percentile,
    read_body,
    serving,
    upload_code,
)

SECRET = "bench-slack-signing-secret"
LIMIT_S = 3.0


class ResponseUrl:
    """A loopback stand-in for Slack's response_url: counts what it is sent."""

    def __init__(self) -> None:
        self.received = 0
        self.arrived: dict[str, float] = {}  # path → when its last message arrived

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        self.received += 1
        self.arrived[scope["path"]] = time.perf_counter()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def signed(text: str, response_url: str, user: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/fcplane",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": "C1BENCH",
            "response_url": response_url,
            "trigger_id": uuid.uuid4().hex,
        }
    ).encode()
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": f"v0={digest}",
        "content-type": "application/x-www-form-urlencoded",
    }
    return body, headers


async def one(api: httpx.AsyncClient, text: str, url: str) -> tuple[float, bool]:
    """Round trip of one signed command, and whether it was answered inline."""
    body, headers = signed(text, url, "U1BENCH")
    started = time.perf_counter()
    response = await api.post("/v1/chat/slack/bench/commands", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    inline = response.json().get("text") != "Working on it…"
    return elapsed, inline


def action(approval_id: str, response_url: str, user: str) -> tuple[bytes, dict[str, str]]:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "channel": {"id": "C1BENCH"},
        "response_url": response_url,
        "actions": [{"action_id": "fcplane_approve", "value": f"approve:{approval_id}"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": f"v0={digest}",
        "content-type": "application/x-www-form-urlencoded",
    }


async def head(api: httpx.AsyncClient) -> int:
    response = await api.get("/v1/accounts/local/functions/hello")
    response.raise_for_status()
    return int(response.json()["head_revision"])


async def chat_deploy(
    api: httpx.AsyncClient, receiver: ResponseUrl, hook: str, memory: int, n: int
) -> float:
    """Seconds from the second user's Approve click to the outcome at response_url."""
    config = {**CONFIG, "memorySize": memory}
    plan = await api.post(
        "/v1/accounts/local/functions/hello/plan",
        json={"config": config, "base_revision": await head(api), "save": True},
    )
    plan.raise_for_status()
    body, headers = signed(f"deploy hello --plan {plan.json()['id']}", f"{hook}/ask{n}", "U1BENCH")
    asked = (await api.post("/v1/chat/slack/bench/commands", content=body, headers=headers)).json()
    buttons = next(b for b in asked["blocks"] if b["type"] == "actions")["elements"]
    approval_id = buttons[0]["value"].removeprefix("approve:")
    path = f"/done{n}"
    body, headers = action(approval_id, f"{hook}{path}", "U2BENCH")
    started = time.perf_counter()
    clicked = await api.post("/v1/chat/slack/bench/interactions", content=body, headers=headers)
    clicked.raise_for_status()
    while path not in receiver.arrived:
        await asyncio.sleep(0.002)
    return receiver.arrived[path] - started


async def api_deploy(api: httpx.AsyncClient, memory: int) -> float:
    config = {**CONFIG, "memorySize": memory}
    base = await head(api)
    started = time.perf_counter()
    response = await api.post(
        "/v1/accounts/local/functions/hello/deployments",
        json={"config": config, "base_revision": base},
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


async def run(stack: Stack, database: str, rounds: int, concurrency: int, deploys: int) -> None:
    receiver = ResponseUrl()
    async with (
        serving(receiver) as hook,
        httpx.AsyncClient(
            base_url=stack.api,
            headers={"Authorization": f"Bearer {stack.token}"},
            timeout=30,
            limits=httpx.Limits(max_connections=concurrency),
        ) as api,
    ):
        await add_account(api, stack.emulator)
        await create_function(api, "hello", CONFIG, await upload_code(api, code_zip()))
        created = await api.post(
            "/v1/chat-integrations",
            json={"name": "bench", "platform": "slack", "secret": SECRET},
        )
        created.raise_for_status()
        integration = created.json()["id"]
        for who in ("U1BENCH", "U2BENCH"):
            user = f"/v1/chat-integrations/{integration}/users/{who}"
            (await api.put(user, json={"scope": "deploy"})).raise_for_status()
        print(f"\n{database}: {rounds} rounds x {concurrency} concurrent slash commands")
        print(f"{'command':<14}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'inline':>9}{'<3 s':>7}")
        expected_later = 0
        for text in ("help", "status hello", "plan hello"):
            body, headers = signed(text, f"{hook}/{text}", "U1BENCH")
            first = await api.post("/v1/chat/slack/bench/commands", content=body, headers=headers)
            print(f"  ({text!r} answers: {first.json().get('text')!r})")
            samples: list[tuple[float, bool]] = []
            for _ in range(rounds):
                batch = [one(api, text, f"{hook}/{text}") for _ in range(concurrency)]
                samples += await asyncio.gather(*batch)
            times = [s for s, _ in samples]
            inline = sum(1 for _, i in samples if i)
            expected_later += len(samples) - inline
            within = sum(1 for t in times if t < LIMIT_S)
            print(
                f"{text:<14}{percentile(times, 0.5) * 1000:>9.1f}"
                f"{percentile(times, 0.99) * 1000:>9.1f}{max(times) * 1000:>9.1f}"
                f"{inline:>5}/{len(samples):<3}{within:>4}/{len(samples)}"
            )
        deadline = time.monotonic() + 60
        while receiver.received < expected_later and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        later = f"{receiver.received}/{expected_later}"
        print(f"answers delivered later through response_url: {later}")
        chat: list[float] = []
        direct: list[float] = []
        for n in range(deploys):
            chat.append(await chat_deploy(api, receiver, hook, 1024 if n % 2 else 896, n))
            direct.append(await api_deploy(api, 512 if n % 2 else 640))
        ratio = statistics.median(chat) / statistics.median(direct)
        print(f"\n{deploys} deploys, one at a time   median ms   p99 ms")
        for label, values in (("approve click → outcome", chat), ("API deploy", direct)):
            median, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
            print(f"{label:<28}{median:>10.1f}{p99:>9.1f}")
        print(f"chat / API (medians): {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--deploys", type=int, default=20)
    args = parser.parse_args()
    # Outside the event loop: creating a PostgreSQL database runs its own loop.
    with fcplane_stack(args.database, FCPLANE_WEBHOOK_ALLOWED_HOSTS="127.0.0.1") as stack:
        asyncio.run(run(stack, args.database, args.rounds, args.concurrency, args.deploys))


if __name__ == "__main__":
    main()
