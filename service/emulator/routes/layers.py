"""CreateLayerVersion, GetLayerVersion, GetLayerVersionByArn, DeleteLayerVersion, ListLayers,
ListLayerVersions."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import FUNCTION, LAYER
from service.emulator.context import Call, json_response, no_content, page_doc, paginate
from service.emulator.errors import FCError, invalid
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.uploads import store_code
from service.emulator.validation import LAYER_FIELDS, check_name, parse_body

PREFIX = "/2023-03-30/layers/{layerName}/versions"


def _not_found(what: str) -> FCError:
    return FCError(404, "LayerNotFound", f"layer version {what} does not exist.")


def render_layer(call: Call, doc: Doc) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["code"] = {
        "location": f"{call.base_url}/_code/{doc['_sha256']}.zip",
        "repositoryType": "HTTP",
    }
    return out


def _version_arg(raw: str) -> str:
    if not raw.isdigit():
        raise invalid(f"layer version {raw!r} must be a positive integer")
    return catalog.version_key(raw)


@API.route("POST", PREFIX, "CreateLayerVersion")
async def create_layer_version(call: Call) -> Response:
    emu = call.emu
    name = call.params["layerName"]
    check_name("layerName", name)
    body = parse_body(call.body, LAYER_FIELDS)
    code = body.pop("code", None)
    if not code:
        raise invalid("code is required (code.zipFile)")
    meta = await store_code(emu, code)
    with emu.store.tx():
        version = emu.store.next_id(f"layer:{name}")
        doc: Doc = {
            "layerName": name,
            "version": version,
            "layerVersionArn": emu.layer_arn(name, version),
            "description": body.get("description", ""),
            "license": body.get("license", ""),
            "compatibleRuntime": body.get("compatibleRuntime", []),
            "codeChecksum": meta["checksum"],
            "codeSize": meta["size"],
            "acl": "0",
            "createTime": catalog.now_iso(),
            "_sha256": meta["sha256"],
        }
        emu.store.put(LAYER, name, catalog.version_key(version), doc)
    return json_response(render_layer(call, doc), call.request_id)


def _get(call: Call, name: str, version: str) -> Doc:
    doc = call.emu.store.get(LAYER, name, _version_arg(version))
    if doc is None:
        raise _not_found(f"{name}/{version}")
    return doc


@API.route("GET", PREFIX + "/{version}", "GetLayerVersion")
async def get_layer_version(call: Call) -> Response:
    doc = _get(call, call.params["layerName"], call.params["version"])
    return json_response(render_layer(call, doc), call.request_id)


@API.route("GET", "/2023-03-30/layerarn/{arn}", "GetLayerVersionByArn")
async def get_by_arn(call: Call) -> Response:
    arn = unquote(call.params["arn"])
    doc = catalog.find_layer_by_arn(call.emu, arn)
    if doc is None or doc["layerVersionArn"] != arn:
        raise _not_found(arn)
    return json_response(render_layer(call, doc), call.request_id)


@API.route("DELETE", PREFIX + "/{version}", "DeleteLayerVersion")
async def delete_layer_version(call: Call) -> Response:
    emu = call.emu
    name = call.params["layerName"]
    with emu.store.tx():
        doc = _get(call, name, call.params["version"])
        for _, fn, record in emu.store.list(FUNCTION, ""):
            if doc["layerVersionArn"] in record["config"].get("layers", []):
                raise invalid(f"layer version is used by function '{fn}'")
        emu.store.delete(LAYER, name, catalog.version_key(doc["version"]))
    return no_content(call.request_id)


@API.route("GET", "/2023-03-30/layers", "ListLayers")
async def list_layers(call: Call) -> Response:
    prefix = call.query.get("prefix") or ""
    if (call.query.get("official") or "").lower() == "true":
        items: list[tuple[str, Any]] = []
    else:
        latest: dict[str, Doc] = {}
        for name, _, doc in call.emu.store.list(LAYER):
            if name.startswith(prefix):
                latest[name] = doc  # list() is key-ordered, so the last one is the newest
        items = [(n, render_layer(call, d)) for n, d in sorted(latest.items())]
    page, token = paginate(items, call)
    return json_response(page_doc("layers", page, token), call.request_id)


@API.route("GET", PREFIX, "ListLayerVersions")
async def list_layer_versions(call: Call) -> Response:
    name = call.params["layerName"]
    limit = call.query_int("limit", 20, 1, 100)
    start = call.query_int("startVersion", 1, 1, 2**31)
    docs = [d for _, _, d in call.emu.store.list(LAYER, name) if d["version"] >= start]
    if not docs and start == 1:
        raise _not_found(name)
    out: dict[str, Any] = {"layers": [render_layer(call, d) for d in docs[:limit]]}
    if len(docs) > limit:
        out["nextVersion"] = docs[limit]["version"]
    return json_response(out, call.request_id)
