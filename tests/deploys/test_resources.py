"""A function is its whole fc3 resource: triggers, configs and custom domain deploy, drift,
merge and go away together (API → official SDK → emulator)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.emulator.server import EmbeddedEmulator
from tests.deploys.conftest import BASE_CONFIG, deploy, handler_returning, upload
from tests.fc import ADMIN_HEADERS, inject

FN = "/v1/accounts/local/functions"
HTTP_TRIGGER = {
    "triggerName": "http_t",
    "triggerType": "http",
    "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]},
}
TIMER_TRIGGER = {
    "triggerName": "timer_t",
    "triggerType": "timer",
    "triggerConfig": {"cronExpression": "@every 1s", "enable": True, "payload": "tick"},
}
FULL = {
    **BASE_CONFIG,
    "triggers": [HTTP_TRIGGER, TIMER_TRIGGER],
    "asyncInvokeConfig": {"maxAsyncRetryAttempts": 1, "maxAsyncEventAgeInSeconds": 600},
    "provisionConfig": {"target": 1},
    "concurrencyConfig": {"reservedConcurrency": 5},
    "customDomain": {
        "domainName": "hello.example.com",
        "protocol": "HTTP",
        "route": {
            "path": "/api/*",
            "methods": ["GET"],
            "rewriteConfig": {"wildcardRules": [{"match": "/api/*", "replacement": "/$1"}]},
        },
    },
}
ECHO_PATH = (
    "import json\n"
    "def handler(event, context):\n"
    "    e = json.loads(event)\n"
    "    return {'statusCode': 200, 'body': e.get('rawPath') or e.get('payload') or 'invoke'}\n"
)


async def _register(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post(FN, json={"name": name})
    assert response.status_code == 201, response.text


async def _full_deploy(client: httpx.AsyncClient, name: str, **overrides: Any) -> dict[str, Any]:
    from tests.deploys.conftest import make_zip

    sha = await upload(client, make_zip(ECHO_PATH))
    await _register(client, name)
    response = await deploy(client, name, {**FULL, **overrides}, None, code_sha256=sha)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _triggers(fc: Client, name: str) -> dict[str, Any]:
    listed = fc.list_triggers(name, fc_models.ListTriggersRequest()).body.triggers or []
    return {t.trigger_name: t for t in listed}


async def test_a_whole_resource_deploys_from_nothing_in_one_request(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    deployed = await _full_deploy(client, "whole")
    revision = deployed["revision"]["config"]
    assert [t["triggerName"] for t in revision["triggers"]] == ["http_t", "timer_t"]
    assert revision["customDomain"]["route"]["path"] == "/api/*"
    assert set(_triggers(fc, "whole")) == {"http_t", "timer_t"}
    assert (
        fc.get_async_invoke_config(
            "whole", fc_models.GetAsyncInvokeConfigRequest()
        ).body.max_async_retry_attempts
        == 1
    )
    assert fc.get_provision_config("whole", fc_models.GetProvisionConfigRequest()).body.target == 1
    assert fc.get_concurrency_config("whole").body.reserved_concurrency == 5
    # The custom domain routes a request (Host header) to the function, rewritten.
    routed = httpx.get(f"{emulator.url}/api/users", headers={"Host": "hello.example.com"})
    assert routed.status_code == 200, routed.text
    assert routed.text == "/users"
    # The timer fires by itself, with its payload.
    deadline = time.monotonic() + 20
    fired: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(fired) < 2:
        logs = httpx.get(
            f"{emulator.url}/_emulator/logs",
            params={"functionName": "whole"},
            headers=ADMIN_HEADERS,
        ).json()
        fired = [entry for entry in logs["logs"] if entry.get("triggerName") == "timer_t"]
        time.sleep(0.5)
    assert len(fired) >= 2, fired
    # Nothing drifted: the read-back is what the next check sees.
    check = (await client.post(f"{FN}/whole/drift-check")).json()
    assert check["drifted"] is False, check


async def test_console_edits_to_each_sub_resource_are_drift_field_by_field(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await _full_deploy(client, "edited")
    fc.update_trigger(
        "edited",
        "http_t",
        fc_models.UpdateTriggerRequest(
            body=fc_models.UpdateTriggerInput(
                trigger_config=json.dumps({"authType": "anonymous", "methods": ["GET"]})
            )
        ),
    )
    fc.put_async_invoke_config(
        "edited",
        fc_models.PutAsyncInvokeConfigRequest(
            body=fc_models.PutAsyncInvokeConfigInput(
                max_async_retry_attempts=3, max_async_event_age_in_seconds=600
            )
        ),
    )
    fc.put_concurrency_config(
        "edited",
        fc_models.PutConcurrencyConfigRequest(
            body=fc_models.PutConcurrencyInput(reserved_concurrency=7)
        ),
    )
    fc.put_provision_config(
        "edited",
        fc_models.PutProvisionConfigRequest(body=fc_models.PutProvisionConfigInput(target=2)),
    )
    domain = fc.get_custom_domain("hello.example.com").body
    domain.route_config.routes[0].methods = ["GET", "POST"]
    fc.update_custom_domain(
        "hello.example.com",
        fc_models.UpdateCustomDomainRequest(
            body=fc_models.UpdateCustomDomainInput(route_config=domain.route_config)
        ),
    )
    fc.create_trigger(
        "edited",
        fc_models.CreateTriggerRequest(
            body=fc_models.CreateTriggerInput(
                trigger_name="console_t",
                trigger_type="timer",
                trigger_config=json.dumps({"cronExpression": "@every 1h", "enable": False}),
            )
        ),
    )
    check = (await client.post(f"{FN}/edited/drift-check")).json()
    assert check["drifted"] is True
    paths = {c["path"]: c for c in check["changes"]}
    assert paths["/triggers/http_t/triggerConfig/methods"]["value"] == ["GET"]
    assert paths["/asyncInvokeConfig/maxAsyncRetryAttempts"] == {
        "path": "/asyncInvokeConfig/maxAsyncRetryAttempts",
        "base": 1,
        "value": 3,
    }
    assert paths["/concurrencyConfig/reservedConcurrency"]["value"] == 7
    assert paths["/provisionConfig/target"] == {
        "path": "/provisionConfig/target",
        "base": 1,
        "value": 2,
    }
    assert paths["/customDomain/route/methods"]["value"] == ["GET", "POST"]
    assert paths["/triggers/console_t"]["base"] is None
    # The next deploy sees the same and refuses, field by field.
    refused = await deploy(client, "edited", {**FULL, "timeout": 9}, base=1)
    assert refused.status_code == 409
    plan = refused.json()["plan"]
    assert refused.json()["code"] == "drift_conflict"
    remote = {c["path"] for c in plan["remote_changes"]}
    assert {"/triggers/http_t/triggerConfig/methods", "/triggers/console_t"} <= remote
    assert "+ trigger console_t (added in FC)" in plan["text"]
    # merge keeps both sides: our timeout, their trigger and configs.
    merged = await deploy(client, "edited", {**FULL, "timeout": 9}, base=1, strategy="merge")
    assert merged.status_code == 201, merged.text
    config = merged.json()["revision"]["config"]
    assert config["timeout"] == 9
    assert {t["triggerName"] for t in config["triggers"]} == {"http_t", "timer_t", "console_t"}
    assert config["concurrencyConfig"] == {"reservedConcurrency": 7}
    assert config["provisionConfig"]["target"] == 2
    assert config["customDomain"]["route"]["methods"] == ["GET", "POST"]
    assert set(_triggers(fc, "edited")) == {"http_t", "timer_t", "console_t"}


async def test_use_remote_adopts_a_console_trigger(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await _full_deploy(client, "adopter")
    fc.delete_trigger("adopter", "timer_t")
    adopted = await deploy(client, "adopter", FULL, base=1, strategy="use-remote")
    assert adopted.status_code == 201, adopted.text
    body = adopted.json()
    assert [t["triggerName"] for t in body["revision"]["config"]["triggers"]] == ["http_t"]
    assert {"path": "/triggers/timer_t", "base": None, "value": None} not in body[
        "discarded_changes"
    ]


async def test_removing_a_trigger_deletes_it_and_the_plan_says_so(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await _full_deploy(client, "pruned")
    without = {**FULL, "triggers": [HTTP_TRIGGER]}
    plan = await client.post(f"{FN}/pruned/plan", json={"config": without, "base_revision": 1})
    assert "- trigger timer_t (will be deleted)" in plan.json()["text"]
    pruned = await deploy(client, "pruned", without, base=1)
    assert pruned.status_code == 201, pruned.text
    assert set(_triggers(fc, "pruned")) == {"http_t"}
    # And a sub-resource left out entirely is removed too (fc3 would leave it).
    bare = await deploy(client, "pruned", BASE_CONFIG, base=2)
    assert bare.status_code == 201, bare.text
    assert _triggers(fc, "pruned") == {}
    config = bare.json()["revision"]["config"]
    assert "asyncInvokeConfig" not in config
    assert "customDomain" not in config
    domains = fc.list_custom_domains(fc_models.ListCustomDomainsRequest()).body.custom_domains
    routes = [r for d in domains or [] for r in (d.route_config.routes or [])]
    assert all(r.function_name != "pruned" for r in routes)


async def test_a_function_with_triggers_is_removed_with_them(
    client: httpx.AsyncClient, fc: Client, fc_account: str
) -> None:
    await _full_deploy(client, "gone")
    removed = await client.delete(
        f"{FN}/gone", params={"base_revision": 1, "delete_remote": "true"}
    )
    assert removed.status_code == 204, removed.text
    listed = fc.list_functions(fc_models.ListFunctionsRequest(prefix="gone")).body.functions
    assert [f.function_name for f in listed or []] == []


async def test_a_removal_that_fails_part_way_says_what_is_gone_and_can_be_finished(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    await _full_deploy(client, "halfgone")
    inject(emulator, action="DeleteFunction", status=500, count=1)
    failed = await client.delete(
        f"{FN}/halfgone", params={"base_revision": 1, "delete_remote": "true"}
    )
    assert failed.status_code == 502, failed.text
    assert failed.json()["fc_applied"] == [
        "DeleteTrigger http_t",
        "DeleteTrigger timer_t",
        "DeleteAsyncInvokeConfig",
        "DeleteProvisionConfig",
        "DeleteConcurrencyConfig",
        "UpdateCustomDomain hello.example.com",
    ]
    assert "remove it again to finish" in failed.json()["detail"]
    # Still managed and free: the second removal deletes what is left.
    assert (await client.get(f"{FN}/halfgone")).json()["deploying"] is None
    again = await client.delete(
        f"{FN}/halfgone", params={"base_revision": 1, "delete_remote": "true"}
    )
    assert again.status_code == 204, again.text
    assert (await client.get(f"{FN}/halfgone")).status_code == 404
    listed = fc.list_functions(fc_models.ListFunctionsRequest(prefix="halfgone")).body.functions
    assert [f.function_name for f in listed or []] == []


async def test_a_failure_part_way_names_what_landed_and_the_next_plan_shows_the_rest(
    client: httpx.AsyncClient, fc: Client, fc_account: str, emulator: EmbeddedEmulator
) -> None:
    sha = await upload(client, handler_returning("v1"))
    await _register(client, "partial")
    first = await deploy(
        client, "partial", {**BASE_CONFIG, "triggers": [HTTP_TRIGGER]}, None, code_sha256=sha
    )
    assert first.status_code == 201, first.text
    # The function and the HTTP trigger update land; creating the timer trigger fails.
    changed = {
        **BASE_CONFIG,
        "timeout": 12,
        "triggers": [
            {**HTTP_TRIGGER, "triggerConfig": {"authType": "anonymous", "methods": ["GET"]}},
            TIMER_TRIGGER,
        ],
    }
    inject(emulator, action="CreateTrigger", status=500, count=1)
    failed = await deploy(client, "partial", changed, base=1)
    assert failed.status_code == 502, failed.text
    problem = failed.json()
    assert problem["fc_applied"] == ["UpdateFunction", "UpdateTrigger http_t"]
    deployment = (await client.get(f"/v1/deployments/{problem['deployment_id']}")).json()
    assert deployment["status"] == "failed"
    assert deployment["error"]["fc_applied"] == ["UpdateFunction", "UpdateTrigger http_t"]
    plan = (
        await client.post(f"{FN}/partial/plan", json={"config": changed, "base_revision": 1})
    ).json()
    # What landed is remote now; the rest is exactly the timer trigger.
    remote = {c["path"] for c in plan["remote_changes"]}
    assert remote == {"/timeout", "/triggers/http_t/triggerConfig/methods"}
    local_only = {c["path"] for c in plan["local_changes"]} - remote
    assert local_only == {"/triggers/timer_t"}
