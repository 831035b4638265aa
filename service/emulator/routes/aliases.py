"""CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import ALIAS, PROVISION, TRIGGER
from service.emulator.context import Call, Emulator, json_response, no_content, page_doc, paginate
from service.emulator.errors import conflict, invalid
from service.emulator.router import API
from service.emulator.routes.configs import reapply_provision
from service.emulator.store import Doc
from service.emulator.validation import ALIAS_FIELDS, check_name, parse_body

PREFIX = "/2023-03-30/functions/{functionName}/aliases"


def _check_targets(emu: Emulator, name: str, alias: dict[str, Any]) -> None:
    version_id = str(alias.get("versionId") or "")
    if not version_id:
        raise invalid("versionId is required")
    catalog.get_version(emu, name, version_id)
    weights = alias.get("additionalVersionWeight") or {}
    for other, weight in weights.items():
        if other == version_id:
            raise invalid("additionalVersionWeight must not name the alias's own versionId")
        catalog.get_version(emu, name, str(other))
        if not 0 <= weight <= 1:
            raise invalid("additionalVersionWeight values must be between 0 and 1")
    if sum(weights.values()) > 1 + 1e-9:
        raise invalid("additionalVersionWeight values must add up to at most 1")


def render_alias(name: str, doc: Doc) -> dict[str, Any]:
    return {
        "aliasName": name,
        "versionId": doc["versionId"],
        "additionalVersionWeight": doc.get("additionalVersionWeight") or {},
        "description": doc.get("description", ""),
        "createdTime": doc["createdTime"],
        "lastModifiedTime": doc["lastModifiedTime"],
    }


@API.route("POST", PREFIX, "CreateAlias")
async def create_alias(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    body = parse_body(call.body, {**ALIAS_FIELDS})
    alias_name = body.pop("aliasName", None)
    if not alias_name:
        raise invalid("aliasName is required")
    check_name("aliasName", alias_name)
    if alias_name == "LATEST":
        raise invalid("aliasName LATEST is reserved")
    with emu.store.tx():
        catalog.get_function(emu, name)
        _check_targets(emu, name, body)
        stamp = catalog.now_iso()
        doc = {
            **body,
            "versionId": str(body["versionId"]),
            "createdTime": stamp,
            "lastModifiedTime": stamp,
        }
        if not emu.store.insert(ALIAS, name, alias_name, doc):
            raise conflict("AliasAlreadyExists", f"alias '{alias_name}' already exists.")
    return json_response(render_alias(alias_name, doc), call.request_id)


@API.route("GET", PREFIX + "/{aliasName}", "GetAlias")
async def get_alias(call: Call) -> Response:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    alias_name = call.params["aliasName"]
    doc = catalog.get_alias(call.emu, name, alias_name)
    return json_response(render_alias(alias_name, doc), call.request_id)


@API.route("PUT", PREFIX + "/{aliasName}", "UpdateAlias")
async def update_alias(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    alias_name = call.params["aliasName"]
    body = parse_body(call.body, {k: v for k, v in ALIAS_FIELDS.items() if k != "aliasName"})
    with emu.store.tx():
        catalog.get_function(emu, name)
        doc = catalog.get_alias(emu, name, alias_name)
        doc.update(body)
        doc["versionId"] = str(doc["versionId"])
        _check_targets(emu, name, doc)
        doc["lastModifiedTime"] = catalog.now_iso()
        emu.store.put(ALIAS, name, alias_name, doc)
    await reapply_provision(emu, name, alias_name)
    return json_response(render_alias(alias_name, doc), call.request_id)


@API.route("DELETE", PREFIX + "/{aliasName}", "DeleteAlias")
async def delete_alias(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    alias_name = call.params["aliasName"]
    with emu.store.tx():
        catalog.get_function(emu, name)
        catalog.get_alias(emu, name, alias_name)
        for _, trigger_name, trigger in emu.store.list(TRIGGER, name):
            if trigger.get("qualifier") == alias_name:
                raise invalid(f"alias '{alias_name}' is used by trigger '{trigger_name}'")
        had_provision = emu.store.delete(PROVISION, name, alias_name)
        spec = catalog.build_spec(emu, catalog.resolve(emu, name, alias_name, pick=False))
        emu.store.delete(ALIAS, name, alias_name)
    if had_provision:
        await emu.runtime.set_provisioned(spec, 0)
    return no_content(call.request_id)


@API.route("GET", PREFIX, "ListAliases")
async def list_aliases(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    catalog.get_function(emu, name)
    prefix = call.query.get("prefix") or ""
    items = [
        (k, render_alias(k, d)) for _, k, d in emu.store.list(ALIAS, name) if k.startswith(prefix)
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("aliases", page, token), call.request_id)
