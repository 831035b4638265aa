"""CreateFunction, GetFunction, UpdateFunction, DeleteFunction, ListFunctions, GetFunctionCode."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import (
    ALIAS,
    ASYNC_CONFIG,
    ASYNC_TASK,
    CONCURRENCY,
    FUNCTION,
    PROVISION,
    TRIGGER,
    VERSION,
)
from service.emulator.context import Call, Emulator, json_response, no_content, page_doc, paginate
from service.emulator.errors import FCError, conflict, invalid
from service.emulator.router import API
from service.emulator.routes.configs import reapply_provision
from service.emulator.store import Doc
from service.emulator.uploads import store_code
from service.emulator.validation import (
    CONTAINER_RUNTIME,
    FUNCTION_FIELDS,
    UPDATE_FUNCTION_FIELDS,
    check_name,
    check_spec,
    default_cpu,
    default_memory,
    parse_body,
)

PREFIX = "/2023-03-30/functions"


def _check_layers(emu: Emulator, config: dict[str, Any]) -> None:
    layers = config.get("layers") or []
    if len(layers) > 5:
        raise invalid("a function can use at most 5 layers")
    for arn in layers:
        if catalog.find_layer_by_arn(emu, arn) is None:
            raise invalid(f"layer {arn} does not exist")


def _fill_defaults(config: dict[str, Any]) -> None:
    if "memorySize" not in config and "cpu" in config:
        config["memorySize"] = default_memory(float(config["cpu"]))
    config.setdefault("memorySize", 512)
    config.setdefault("cpu", default_cpu(int(config["memorySize"])))
    config.setdefault("diskSize", 512)
    config.setdefault("timeout", 3)
    config.setdefault("instanceConcurrency", 1)
    config.setdefault("internetAccess", True)
    config.setdefault("description", "")
    config.setdefault("environmentVariables", {})
    config.setdefault("layers", [])
    config.setdefault("tags", [])


async def _upload(emu: Emulator, runtime: str, code: Any) -> Doc | None:
    if not code:
        return None
    if runtime == CONTAINER_RUNTIME:
        raise invalid("runtime custom-container takes customContainerConfig, not code")
    return await store_code(emu, code)


def _code_for(config: dict[str, Any], uploaded: Doc | None, current: Doc | None) -> Doc | None:
    if config["runtime"] == CONTAINER_RUNTIME:
        return None
    if uploaded is not None:
        return uploaded
    if current is not None:
        return current
    raise invalid("code is required (code.zipFile) unless runtime is custom-container")


@API.route("POST", PREFIX, "CreateFunction")
async def create_function(call: Call) -> Response:
    emu = call.emu
    body = parse_body(call.body, FUNCTION_FIELDS)
    name = body.pop("functionName", None)
    if not name:
        raise invalid("functionName is required")
    check_name("functionName", name)
    if not body.get("runtime"):
        raise invalid("runtime is required")
    code = body.pop("code", None)
    config = body
    _fill_defaults(config)
    check_spec(config)
    _check_layers(emu, config)
    if emu.store.get(FUNCTION, "", name) is not None:
        raise conflict("FunctionAlreadyExists", f"function '{name}' already exists.")
    code_meta = _code_for(config, await _upload(emu, config["runtime"], code), None)
    stamp = catalog.now_iso()
    record: Doc = {
        "config": config,
        "code": code_meta,
        "functionId": str(uuid.uuid4()),
        "createdTime": stamp,
        "lastModifiedTime": stamp,
    }
    if not emu.store.insert(FUNCTION, "", name, record):
        raise conflict("FunctionAlreadyExists", f"function '{name}' already exists.")
    return json_response(catalog.render_function(emu, name, record), call.request_id)


@API.route("GET", PREFIX + "/{functionName}", "GetFunction")
async def get_function(call: Call) -> Response:
    name = call.params["functionName"]
    target = catalog.resolve(call.emu, name, call.query.get("qualifier"), pick=False)
    doc = catalog.render_function(call.emu, name, target.record)
    if target.version_id is not None:
        # A function has one set of tags, shared by all its versions and aliases (FC docs).
        doc["tags"] = catalog.get_function(call.emu, name)["config"].get("tags", [])
    return json_response(doc, call.request_id)


@API.route("PUT", PREFIX + "/{functionName}", "UpdateFunction")
async def update_function(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    body = parse_body(call.body, UPDATE_FUNCTION_FIELDS)
    code = body.pop("code", None)
    runtime = body.get("runtime") or catalog.get_function(emu, name)["config"]["runtime"]
    uploaded = await _upload(emu, runtime, code)
    with emu.store.tx():
        record = catalog.get_function(emu, name)
        config = {**record["config"], **body}
        if "memorySize" in body and "cpu" not in body:
            config["cpu"] = default_cpu(int(config["memorySize"]))
            if "cpu" in record["config"] and _ratio_ok(record["config"]["cpu"], config):
                config["cpu"] = record["config"]["cpu"]
        check_spec(config)
        _check_layers(emu, config)
        record["code"] = _code_for(config, uploaded, record.get("code"))
        record["config"] = config
        record["lastModifiedTime"] = catalog.now_iso()
        emu.store.put(FUNCTION, "", name, record)
    await emu.runtime.drop_function(name)
    await reapply_provision(emu, name)
    return json_response(catalog.render_function(emu, name, record), call.request_id)


def _ratio_ok(cpu: float, config: dict[str, Any]) -> bool:
    ratio = int(config["memorySize"]) / 1024 / float(cpu)
    return 1 <= ratio <= 4


@API.route("DELETE", PREFIX + "/{functionName}", "DeleteFunction")
async def delete_function(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    with emu.store.tx():
        catalog.get_function(emu, name)
        if emu.store.list(TRIGGER, name):
            raise FCError(
                409, "FunctionNotEmpty", f"function '{name}' still has triggers; delete them first."
            )
        for kind in (VERSION, ALIAS, PROVISION, ASYNC_CONFIG, ASYNC_TASK):
            emu.store.delete_scope(kind, name)
        emu.store.delete(CONCURRENCY, "", name)
        emu.store.delete(FUNCTION, "", name)
    for (fn, task_id), task in list(emu.async_tasks.items()):
        if fn == name:
            task.cancel()
            emu.async_tasks.pop((fn, task_id), None)
    await emu.runtime.drop_function(name)
    return no_content(call.request_id)


def _tags_match(record: Doc, raw: str) -> bool:
    try:
        wanted = json.loads(raw)
    except ValueError:
        raise invalid("tags must be a JSON list of {Key, Value}") from None
    if not isinstance(wanted, list):
        raise invalid("tags must be a JSON list of {Key, Value}")
    have = {t.get("Key"): t.get("Value") for t in record["config"].get("tags", [])}
    return all(
        isinstance(w, dict)
        and w.get("Key") in have
        and have[w["Key"]] == w.get("Value", have[w["Key"]])
        for w in wanted
    )


@API.route("GET", PREFIX, "ListFunctions")
async def list_functions(call: Call) -> Response:
    emu = call.emu
    prefix = call.query.get("prefix") or ""
    runtime = call.query.get("runtime")
    description = call.query.get("description")
    tags = call.query.get("tags")
    items = []
    for _, name, record in emu.store.list(FUNCTION, ""):
        cfg = record["config"]
        if not name.startswith(prefix):
            continue
        if runtime and cfg.get("runtime") != runtime:
            continue
        if description and description not in cfg.get("description", ""):
            continue
        if tags and tags != "[]" and not _tags_match(record, tags):
            continue
        items.append((name, (name, record)))
    page, token = paginate(items, call)
    rendered = [catalog.render_function(emu, n, r) for n, r in page]
    return json_response(page_doc("functions", rendered, token), call.request_id)


@API.route("GET", PREFIX + "/{functionName}/code", "GetFunctionCode")
async def get_function_code(call: Call) -> Response:
    name = call.params["functionName"]
    target = catalog.resolve(call.emu, name, call.query.get("qualifier"), pick=False)
    code = target.record.get("code")
    if not code:
        raise invalid(f"function '{name}' is a custom-container function and has no code package")
    return json_response(
        {"checksum": code["checksum"], "url": f"{call.base_url}/_code/{code['sha256']}.zip"},
        call.request_id,
    )
