"""CreateTrigger, GetTrigger, UpdateTrigger, DeleteTrigger, ListTriggers."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import TRIGGER
from service.emulator.context import Call, json_response, no_content, page_doc, paginate
from service.emulator.errors import conflict, invalid, not_found
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.trigger_config import check_trigger_config
from service.emulator.validation import (
    TRIGGER_FIELDS,
    UPDATE_TRIGGER_FIELDS,
    check_name,
    parse_body,
)

PREFIX = "/2023-03-30/functions/{functionName}/triggers"
TRIGGER_TYPES = frozenset(
    {"http", "timer", "oss", "log", "mns_topic", "cdn_events", "tablestore", "eventbridge"}
)


def trigger_url(call: Call, function_name: str, trigger_name: str) -> str:
    return f"{call.base_url}/_trigger/{function_name}/{trigger_name}"


def render_trigger(call: Call, function_name: str, name: str, doc: Doc) -> dict[str, Any]:
    out = {
        "triggerName": name,
        "triggerId": doc["triggerId"],
        "triggerType": doc["triggerType"],
        "triggerConfig": doc.get("triggerConfig", ""),
        "qualifier": doc.get("qualifier", "LATEST"),
        "description": doc.get("description", ""),
        "invocationRole": doc.get("invocationRole", ""),
        "sourceArn": doc.get("sourceArn", ""),
        "targetArn": call.emu.function_arn(function_name),
        "status": "Success",
        "createdTime": doc["createdTime"],
        "lastModifiedTime": doc["lastModifiedTime"],
    }
    if doc["triggerType"] == "http":
        url = trigger_url(call, function_name, name)
        out["httpTrigger"] = {"urlInternet": url, "urlIntranet": url}
    return out


def get_trigger(call: Call, function_name: str, name: str) -> Doc:
    doc = call.emu.store.get(TRIGGER, function_name, name)
    if doc is None:
        raise not_found(
            "TriggerNotFound", f"trigger '{name}' of function '{function_name}' does not exist."
        )
    return doc


@API.route("POST", PREFIX, "CreateTrigger")
async def create_trigger(call: Call) -> Response:
    emu = call.emu
    fn = call.params["functionName"]
    body = parse_body(call.body, TRIGGER_FIELDS)
    name = body.pop("triggerName", None)
    if not name:
        raise invalid("triggerName is required")
    check_name("triggerName", name)
    trigger_type = body.get("triggerType")
    if trigger_type not in TRIGGER_TYPES:
        raise invalid(f"triggerType must be one of {', '.join(sorted(TRIGGER_TYPES))}")
    check_trigger_config(trigger_type, body.get("triggerConfig", ""))
    with emu.store.tx():
        catalog.get_function(emu, fn)
        qualifier = body.setdefault("qualifier", "LATEST") or "LATEST"
        body["qualifier"] = qualifier
        catalog.require_qualifier_exists(emu, fn, qualifier)
        stamp = catalog.now_iso()
        doc = {
            **body,
            "triggerId": uuid.uuid4().hex,
            "createdTime": stamp,
            "lastModifiedTime": stamp,
        }
        if not emu.store.insert(TRIGGER, fn, name, doc):
            raise conflict("TriggerAlreadyExists", f"trigger '{name}' already exists.")
    emu.triggers_changed()
    return json_response(render_trigger(call, fn, name, doc), call.request_id)


@API.route("GET", PREFIX + "/{triggerName}", "GetTrigger")
async def read_trigger(call: Call) -> Response:
    fn = call.params["functionName"]
    catalog.get_function(call.emu, fn)
    name = call.params["triggerName"]
    return json_response(
        render_trigger(call, fn, name, get_trigger(call, fn, name)), call.request_id
    )


@API.route("PUT", PREFIX + "/{triggerName}", "UpdateTrigger")
async def update_trigger(call: Call) -> Response:
    emu = call.emu
    fn = call.params["functionName"]
    name = call.params["triggerName"]
    body = parse_body(call.body, UPDATE_TRIGGER_FIELDS)
    with emu.store.tx():
        catalog.get_function(emu, fn)
        doc = get_trigger(call, fn, name)
        if "triggerConfig" in body:
            check_trigger_config(doc["triggerType"], body["triggerConfig"])
        if body.get("qualifier"):
            catalog.require_qualifier_exists(emu, fn, body["qualifier"])
        doc.update(body)
        doc["lastModifiedTime"] = catalog.now_iso()
        emu.store.put(TRIGGER, fn, name, doc)
    emu.triggers_changed()
    return json_response(render_trigger(call, fn, name, doc), call.request_id)


@API.route("DELETE", PREFIX + "/{triggerName}", "DeleteTrigger")
async def delete_trigger(call: Call) -> Response:
    emu = call.emu
    fn = call.params["functionName"]
    name = call.params["triggerName"]
    with emu.store.tx():
        catalog.get_function(emu, fn)
        get_trigger(call, fn, name)
        emu.store.delete(TRIGGER, fn, name)
    emu.triggers_changed()
    return no_content(call.request_id)


@API.route("GET", PREFIX, "ListTriggers")
async def list_triggers(call: Call) -> Response:
    emu = call.emu
    fn = call.params["functionName"]
    catalog.get_function(emu, fn)
    prefix = call.query.get("prefix") or ""
    items = [
        (k, render_trigger(call, fn, k, d))
        for _, k, d in emu.store.list(TRIGGER, fn)
        if k.startswith(prefix)
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("triggers", page, token), call.request_id)
