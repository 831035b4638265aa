"""Async invoke configs (Put/Get/Delete/List) and async tasks (Get/List/Stop)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import ASYNC_CONFIG, ASYNC_TASK
from service.emulator.context import Call, json_response, no_content, page_doc, paginate
from service.emulator.errors import FCError, invalid
from service.emulator.invocation import stop_task
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.validation import ASYNC_CONFIG_FIELDS, parse_body

FN = "/2023-03-30/functions/{functionName}"


def _render_config(call: Call, name: str, doc: Doc) -> dict[str, Any]:
    return {**doc, "functionArn": call.emu.function_arn(name)}


def _qualifier(call: Call) -> str:
    return call.query.get("qualifier") or "LATEST"


@API.route("PUT", FN + "/async-invoke-config", "PutAsyncInvokeConfig")
async def put_config(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    body = parse_body(call.body, ASYNC_CONFIG_FIELDS)
    retries = body.get("maxAsyncRetryAttempts", 3)
    if not 0 <= retries <= 8:
        raise invalid("maxAsyncRetryAttempts must be between 0 and 8")
    age = body.get("maxAsyncEventAgeInSeconds", 86400)
    if not 1 <= age <= 86400:
        raise invalid("maxAsyncEventAgeInSeconds must be between 1 and 86400")
    qualifier = _qualifier(call)
    with emu.store.tx():
        catalog.get_function(emu, name)
        catalog.require_qualifier_exists(emu, name, qualifier)
        old = emu.store.get(ASYNC_CONFIG, name, qualifier)
        stamp = catalog.now_iso()
        doc = {
            "asyncTask": False,
            "maxAsyncRetryAttempts": 3,
            "maxAsyncEventAgeInSeconds": 86400,
            **body,
            "createdTime": old["createdTime"] if old else stamp,
            "lastModifiedTime": stamp,
        }
        emu.store.put(ASYNC_CONFIG, name, qualifier, doc)
    return json_response(_render_config(call, name, doc), call.request_id)


def _get_config(call: Call) -> tuple[str, str, Doc]:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    qualifier = _qualifier(call)
    doc = call.emu.store.get(ASYNC_CONFIG, name, qualifier)
    if doc is None:
        raise FCError(
            404,
            "AsyncConfigNotFound",
            f"async invoke config of function '{name}' qualifier '{qualifier}' does not exist.",
        )
    return name, qualifier, doc


@API.route("GET", FN + "/async-invoke-config", "GetAsyncInvokeConfig")
async def get_config(call: Call) -> Response:
    name, _, doc = _get_config(call)
    return json_response(_render_config(call, name, doc), call.request_id)


@API.route("DELETE", FN + "/async-invoke-config", "DeleteAsyncInvokeConfig")
async def delete_config(call: Call) -> Response:
    name, qualifier, _ = _get_config(call)
    call.emu.store.delete(ASYNC_CONFIG, name, qualifier)
    return no_content(call.request_id)


@API.route("GET", "/2023-03-30/async-invoke-configs", "ListAsyncInvokeConfigs")
async def list_configs(call: Call) -> Response:
    wanted = call.query.get("functionName")
    items = [
        (f"{fn}/{q}", _render_config(call, fn, d))
        for fn, q, d in call.emu.store.list(ASYNC_CONFIG)
        if not wanted or fn == wanted
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("configs", page, token), call.request_id)


def _render_task(doc: Doc, include_payload: bool = True) -> dict[str, Any]:
    out = dict(doc)
    if not include_payload:
        out.pop("taskPayload", None)
    return out


@API.route("GET", FN + "/async-tasks/{taskId}", "GetAsyncTask")
async def get_task(call: Call) -> Response:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    doc = call.emu.store.get(ASYNC_TASK, name, call.params["taskId"])
    if doc is None:
        raise FCError(
            404, "AsyncTaskNotFound", f"async task '{call.params['taskId']}' does not exist."
        )
    return json_response(_render_task(doc), call.request_id)


@API.route("GET", FN + "/async-tasks", "ListAsyncTasks")
async def list_tasks(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    catalog.get_function(emu, name)
    prefix = call.query.get("prefix") or ""
    status = call.query.get("status")
    qualifier = call.query.get("qualifier")
    include = (call.query.get("includePayload") or "").lower() == "true"
    begin = call.query_int("startedTimeBegin", 0, 0, 2**62)
    end = call.query_int("startedTimeEnd", 2**62, 0, 2**62)
    docs = [
        d
        for _, k, d in emu.store.list(ASYNC_TASK, name)
        if k.startswith(prefix)
        and (not status or d["status"] == status)
        and (not qualifier or d["qualifier"] == qualifier)
        and begin <= d["startedTime"] <= end
    ]
    order = (call.query.get("sortOrderByTime") or "desc").lower()
    docs.sort(key=lambda d: (d["startedTime"], d["taskId"]), reverse=order != "asc")
    items = [(f"{i:010d}", _render_task(d, include)) for i, d in enumerate(docs)]
    page, token = paginate(items, call)
    return json_response(page_doc("tasks", page, token), call.request_id)


@API.route("PUT", FN + "/async-tasks/{taskId}/stop", "StopAsyncTask")
async def stop(call: Call) -> Response:
    name = call.params["functionName"]
    catalog.get_function(call.emu, name)
    stop_task(call.emu, name, call.params["taskId"])
    return no_content(call.request_id)
