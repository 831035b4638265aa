"""CreateCustomDomain, GetCustomDomain, UpdateCustomDomain, DeleteCustomDomain, ListCustomDomains.

Requests whose Host is one of these domains are served by domain_routing.py.
"""

from __future__ import annotations

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.context import Call, json_response, no_content, page_doc, paginate
from service.emulator.custom_domains import (
    CUSTOM_DOMAIN,
    check_domain_body,
    get_domain,
    new_domain_name,
    render_domain,
)
from service.emulator.errors import conflict, invalid
from service.emulator.router import API

PREFIX = "/2023-03-30/custom-domains"


@API.route("POST", PREFIX, "CreateCustomDomain")
async def create_custom_domain(call: Call) -> Response:
    emu = call.emu
    body = check_domain_body(call.body, None)
    requested = body.pop("domainName", None)
    if not requested:
        raise invalid("domainName is required (a host name, or 'auto')")
    name = new_domain_name(emu, requested)
    stamp = catalog.now_iso()
    doc = {**body, "domainName": name, "createdTime": stamp, "lastModifiedTime": stamp}
    if not emu.store.insert(CUSTOM_DOMAIN, "", name, doc):
        raise conflict("DomainNameAlreadyExists", f"custom domain '{name}' already exists.")
    return json_response(render_domain(emu, doc), call.request_id)


@API.route("GET", PREFIX + "/{domainName}", "GetCustomDomain")
async def read_custom_domain(call: Call) -> Response:
    doc = get_domain(call.emu, call.params["domainName"])
    return json_response(render_domain(call.emu, doc), call.request_id)


@API.route("PUT", PREFIX + "/{domainName}", "UpdateCustomDomain")
async def update_custom_domain(call: Call) -> Response:
    emu = call.emu
    with emu.store.tx():
        doc = get_domain(emu, call.params["domainName"])
        doc.update(check_domain_body(call.body, doc))
        doc["lastModifiedTime"] = catalog.now_iso()
        emu.store.put(CUSTOM_DOMAIN, "", doc["domainName"], doc)
    return json_response(render_domain(emu, doc), call.request_id)


@API.route("DELETE", PREFIX + "/{domainName}", "DeleteCustomDomain")
async def delete_custom_domain(call: Call) -> Response:
    emu = call.emu
    with emu.store.tx():
        doc = get_domain(emu, call.params["domainName"])
        emu.store.delete(CUSTOM_DOMAIN, "", doc["domainName"])
    return no_content(call.request_id)


@API.route("GET", PREFIX, "ListCustomDomains")
async def list_custom_domains(call: Call) -> Response:
    emu = call.emu
    prefix = (call.query.get("prefix") or "").lower()
    items = [
        (key, render_domain(emu, doc))
        for _, key, doc in emu.store.list(CUSTOM_DOMAIN, "")
        if key.startswith(prefix)
    ]
    page, token = paginate(items, call)
    return json_response(page_doc("customDomains", page, token), call.request_id)
