"""Provision configs and concurrency configs (Put/Get/Delete/List), plus ListInstances."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import CONCURRENCY, FUNCTION, PROVISION
from service.emulator.context import Call, Emulator, json_response, no_content, page_doc, paginate
from service.emulator.errors import FCError, function_not_found, invalid
from service.emulator.fc_assumptions import ON_DEMAND, PROVISIONED
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.validation import CONCURRENCY_FIELDS, PROVISION_FIELDS, parse_body

log = logging.getLogger(__name__)
FN = "/2023-03-30/functions/{functionName}"


def _current(emu: Emulator, name: str, qualifier: str) -> int:
    return sum(1 for i in emu.runtime.instances(name) if i.qualifier == qualifier)


def _render_provision(emu: Emulator, name: str, qualifier: str, doc: Doc) -> dict[str, Any]:
    return {
        **doc,
        "functionArn": f"{emu.function_arn(name)}/{qualifier}"
        if qualifier != "LATEST"
        else emu.function_arn(name),
        "current": min(doc["target"], _current(emu, name, qualifier)),
    }


async def apply_provision(emu: Emulator, name: str, qualifier: str, target: int) -> None:
    resolved = catalog.resolve(emu, name, qualifier, pick=False)
    await emu.runtime.set_provisioned(catalog.build_spec(emu, resolved), target)


async def reapply_provision(emu: Emulator, name: str, qualifier: str | None = None) -> None:
    """After a change of what a qualifier runs, bring its provisioned instances back."""
    for _, q, doc in emu.store.list(PROVISION, name):
        if qualifier is None or q == qualifier:
            try:
                await apply_provision(emu, name, q, int(doc["target"]))
            except FCError:
                log.warning("could not re-provision %s/%s", name, q, exc_info=True)


@API.route("PUT", FN + "/provision-config", "PutProvisionConfig")
async def put_provision(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    qualifier = call.query.get("qualifier") or "LATEST"
    body = parse_body(call.body, PROVISION_FIELDS)
    if "target" not in body:
        raise invalid("target is required")
    if not 0 <= body["target"] <= 10000:
        raise invalid("target must be between 0 and 10000")
    with emu.store.tx():
        catalog.get_function(emu, name)
        catalog.require_qualifier_exists(emu, name, qualifier)
        doc = {
            "alwaysAllocateCPU": True,
            "alwaysAllocateGPU": False,
            "scheduledActions": [],
            "targetTrackingPolicies": [],
            **body,
        }
        emu.store.put(PROVISION, name, qualifier, doc)
    await apply_provision(emu, name, qualifier, int(doc["target"]))
    return json_response(_render_provision(emu, name, qualifier, doc), call.request_id)


def _get_provision(call: Call) -> tuple[str, str, Doc]:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    qualifier = call.query.get("qualifier") or "LATEST"
    doc = call.emu.store.get(PROVISION, name, qualifier)
    if doc is None:
        raise FCError(
            404,
            "ProvisionConfigNotFound",
            f"provision config of function '{name}' qualifier '{qualifier}' does not exist.",
        )
    return name, qualifier, doc


@API.route("GET", FN + "/provision-config", "GetProvisionConfig")
async def get_provision(call: Call) -> Response:
    name, qualifier, doc = _get_provision(call)
    return json_response(_render_provision(call.emu, name, qualifier, doc), call.request_id)


@API.route("DELETE", FN + "/provision-config", "DeleteProvisionConfig")
async def delete_provision(call: Call) -> Response:
    name, qualifier, _ = _get_provision(call)
    call.emu.store.delete(PROVISION, name, qualifier)
    await apply_provision(call.emu, name, qualifier, 0)
    return no_content(call.request_id)


@API.route("GET", "/2023-03-30/provision-configs", "ListProvisionConfigs")
async def list_provision(call: Call) -> Response:
    wanted = call.query.get("functionName")
    items = [
        (f"{fn}/{q}", _render_provision(call.emu, fn, q, d))
        for fn, q, d in call.emu.store.list(PROVISION)
        if not wanted or fn == wanted
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("provisionConfigs", page, token), call.request_id)


def _render_concurrency(emu: Emulator, name: str, doc: Doc) -> dict[str, Any]:
    return {
        "functionArn": emu.function_arn(name),
        "reservedConcurrency": doc["reservedConcurrency"],
    }


@API.route("PUT", FN + "/concurrency", "PutConcurrencyConfig")
async def put_concurrency(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    body = parse_body(call.body, CONCURRENCY_FIELDS)
    reserved = body.get("reservedConcurrency")
    if reserved is None:
        raise invalid("reservedConcurrency is required")
    limit = emu.settings.account_instance_limit
    if not 0 <= reserved <= limit:
        raise invalid(f"reservedConcurrency must be between 0 and the account limit ({limit})")
    with emu.store.tx():
        catalog.get_function(emu, name)
        others = sum(
            int(d["reservedConcurrency"])
            for _, k, d in emu.store.list(CONCURRENCY, "")
            if k != name
        )
        if others + reserved > limit:
            raise invalid(
                f"reservedConcurrency {reserved} exceeds what is left of the account limit "
                f"({limit - others} of {limit})"
            )
        doc = {"reservedConcurrency": reserved}
        emu.store.put(CONCURRENCY, "", name, doc)
    return json_response(_render_concurrency(emu, name, doc), call.request_id)


def _get_concurrency(call: Call) -> tuple[str, Doc]:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    doc = call.emu.store.get(CONCURRENCY, "", name)
    if doc is None:
        raise FCError(
            404,
            "ConcurrencyConfigNotFound",
            f"concurrency config of function '{name}' does not exist.",
        )
    return name, doc


@API.route("GET", FN + "/concurrency", "GetConcurrencyConfig")
async def get_concurrency(call: Call) -> Response:
    name, doc = _get_concurrency(call)
    return json_response(_render_concurrency(call.emu, name, doc), call.request_id)


@API.route("DELETE", FN + "/concurrency", "DeleteConcurrencyConfig")
async def delete_concurrency(call: Call) -> Response:
    name, _ = _get_concurrency(call)
    call.emu.store.delete(CONCURRENCY, "", name)
    return no_content(call.request_id)


@API.route("GET", "/2023-03-30/concurrency-configs", "ListConcurrencyConfigs")
async def list_concurrency(call: Call) -> Response:
    wanted = call.query.get("functionName")
    items = [
        (k, _render_concurrency(call.emu, k, d))
        for _, k, d in call.emu.store.list(CONCURRENCY, "")
        if not wanted or k == wanted
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("configs", page, token), call.request_id)


@API.route("GET", FN + "/instances", "ListInstances")
async def list_instances(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    if emu.store.get(FUNCTION, "", name) is None:
        raise function_not_found(name)
    qualifier = call.query.get("qualifier")
    ids_raw = call.query.get("instanceIds")
    wanted: set[str] | None = None
    if ids_raw:
        try:
            wanted = set(json.loads(ids_raw)) or None
        except (ValueError, TypeError):
            raise invalid("instanceIds must be a JSON list of strings") from None
    instances = [
        {
            "instanceId": i.instance_id,
            "qualifier": i.qualifier,
            "versionId": i.version_id or "0",
            "status": "Running",
            "createdTimeMs": int(i.started_at * 1000),
            "resourceType": PROVISIONED if i.provisioned else ON_DEMAND,
        }
        for i in emu.runtime.instances(name)
        if (not qualifier or i.qualifier == qualifier)
        and (wanted is None or i.instance_id in wanted)
    ]
    limit = call.query_int("limit", 1000, 1, 1000)
    return json_response(
        {"instances": instances[:limit], "requestId": call.request_id}, call.request_id
    )
