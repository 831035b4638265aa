"""PublishFunctionVersion, ListFunctionVersions, DeleteFunctionVersion."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import ALIAS, PROVISION, TRIGGER, VERSION
from service.emulator.context import Call, json_response, no_content
from service.emulator.errors import FCError, invalid
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.validation import VERSION_FIELDS, parse_body

PREFIX = "/2023-03-30/functions/{functionName}/versions"


def render_version(doc: Doc) -> dict[str, Any]:
    return {k: doc[k] for k in ("versionId", "description", "createdTime", "lastModifiedTime")}


@API.route("POST", PREFIX, "PublishFunctionVersion")
async def publish_version(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    body = parse_body(call.body, VERSION_FIELDS)
    with emu.store.tx():
        record = catalog.get_function(emu, name)
        version_id = str(emu.store.next_id(f"version:{name}:{record['functionId']}"))
        stamp = catalog.now_iso()
        doc: Doc = {
            "versionId": version_id,
            "description": body.get("description", ""),
            "createdTime": stamp,
            "lastModifiedTime": stamp,
            "function": record,
        }
        emu.store.put(VERSION, name, catalog.version_key(version_id), doc)
    return json_response(render_version(doc), call.request_id)


@API.route("GET", PREFIX, "ListFunctionVersions")
async def list_versions(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    catalog.get_function(emu, name)
    direction = call.query.get("direction") or "BACKWARD"
    if direction not in ("FORWARD", "BACKWARD"):
        raise invalid("direction must be FORWARD or BACKWARD")
    limit = call.query_int("limit", 20, 1, 100)
    docs = [d for _, _, d in emu.store.list(VERSION, name)]
    if direction == "BACKWARD":
        docs.reverse()
    token = call.query.get("nextToken")
    if token:
        if not token.isdigit():
            raise invalid("nextToken is invalid")
        t = int(token)
        docs = [
            d
            for d in docs
            if (int(d["versionId"]) <= t if direction == "BACKWARD" else int(d["versionId"]) >= t)
        ]
    page = docs[:limit]
    out: dict[str, Any] = {"versions": [render_version(d) for d in page], "direction": direction}
    if len(docs) > limit:
        out["nextToken"] = docs[limit]["versionId"]
    return json_response(out, call.request_id)


@API.route("DELETE", PREFIX + "/{versionId}", "DeleteFunctionVersion")
async def delete_version(call: Call) -> Response:
    emu = call.emu
    name = call.params["functionName"]
    version_id = call.params["versionId"]
    with emu.store.tx():
        catalog.get_function(emu, name)
        catalog.get_version(emu, name, version_id)
        for _, alias_name, alias in emu.store.list(ALIAS, name):
            if str(alias["versionId"]) == version_id or version_id in (
                alias.get("additionalVersionWeight") or {}
            ):
                raise FCError(
                    400,
                    "InvalidArgument",
                    f"version '{version_id}' is used by alias '{alias_name}'; update it first",
                )
        for _, trigger_name, trigger in emu.store.list(TRIGGER, name):
            if trigger.get("qualifier") == version_id:
                raise invalid(f"version '{version_id}' is used by trigger '{trigger_name}'")
        if emu.store.get(PROVISION, name, version_id) is not None:
            raise invalid(f"version '{version_id}' has a provision config; delete it first")
        emu.store.delete(VERSION, name, catalog.version_key(version_id))
    return no_content(call.request_id)
