"""A function's sub-resources in the one shape its state keeps them in.

The desired state of a function is an fc3 resource's ``props``: the function's
own config plus ``triggers``, ``asyncInvokeConfig``, ``provisionConfig``,
``concurrencyConfig`` and ``customDomain``. In a state they take a canonical
form, so that the same resource compares equal whether it came from a request
(fc3 shapes: triggers as a list, ``triggerConfig`` as an object) or from FC
(GetTrigger's ``triggerConfig`` is a JSON string, server fields everywhere):

- ``triggers`` is a map by ``triggerName`` — a diff path reads
  ``/triggers/http_t/triggerConfig/methods``, and a merge pairs triggers by
  name, never by list position; always present (``{}`` when there are none), so
  a trigger added or removed is its own change, ``/triggers/<name>``;
- every sub-resource has its documented defaults filled in and its server
  fields (ids, times, ARNs, ``current``) dropped; one that configures nothing
  is absent;
- ``customDomain`` is this function's route on the domain, with the domain's
  own settings.

FC defaults marked *unconfirmed* have no primary source; they agree with the
bundled emulator and live in the tables below, so they are easy to correct.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from service.functions.normalize import canonical

TRIGGERS = "triggers"
ASYNC_INVOKE = "asyncInvokeConfig"
PROVISION = "provisionConfig"
CONCURRENCY = "concurrencyConfig"
DOMAIN = "customDomain"
# In the order a deploy applies them, after the function itself.
SUBRESOURCES = (TRIGGERS, ASYNC_INVOKE, PROVISION, CONCURRENCY, DOMAIN)

LATEST = "LATEST"

# Filled when absent. Triggers: fc3's FC_TRIGGER_DEFAULT_CONFIG.
TRIGGER_DEFAULTS: dict[str, Any] = {"qualifier": LATEST, "description": ""}
TRIGGER_CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    "http": {"authType": "function", "disableURLInternet": False},  # FC: authType function
    "timer": {"enable": True, "payload": ""},  # unconfirmed
}
# Fields of a trigger FC fills in itself.
TRIGGER_SERVER = frozenset(
    {"triggerId", "createdTime", "lastModifiedTime", "status", "targetArn", "httpTrigger"}
)
ASYNC_DEFAULTS: dict[str, Any] = {  # unconfirmed; the emulator's
    "asyncTask": False,
    "maxAsyncRetryAttempts": 3,
    "maxAsyncEventAgeInSeconds": 86400,
    "qualifier": LATEST,
}
PROVISION_DEFAULTS: dict[str, Any] = {  # API reference: alwaysAllocateCPU defaults to true
    "alwaysAllocateCPU": True,
    "alwaysAllocateGPU": False,  # unconfirmed
    "qualifier": LATEST,
}
CONFIG_SERVER = frozenset(
    {"functionArn", "createdTime", "lastModifiedTime", "current", "currentError"}
)
DOMAIN_DEFAULTS: dict[str, Any] = {"protocol": "HTTP"}
ROUTE_DEFAULTS: dict[str, Any] = {"qualifier": LATEST}
DOMAIN_SERVER = frozenset(
    {
        "accountId",
        "apiVersion",
        "createdTime",
        "lastModifiedTime",
        "subdomainCount",
        "routeConfig",
        "isE2B",
    }
)


def _clean(value: Any) -> Any:
    """Drop None and blank ("" stays: a description of "" is a value) nested values."""
    if isinstance(value, Mapping):
        out = {k: _clean(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != [] and v != {}}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _with_defaults(value: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(value)
    for key, default in defaults.items():
        if out.get(key) is None:
            out[key] = copy.deepcopy(default)
    return out


# -- triggers ------------------------------------------------------------------


def _trigger_config(kind: str, config: Any) -> dict[str, Any]:
    if isinstance(config, str):  # FC's wire form is a JSON string
        config = json.loads(config) if config.strip() else {}
    if not isinstance(config, Mapping):
        return {}
    out = _with_defaults(_clean(config), TRIGGER_CONFIG_DEFAULTS.get(kind, {}))
    if kind == "http" and isinstance(out.get("methods"), list):
        # A set of methods: FC keeps the order given, which means nothing.
        out["methods"] = sorted({str(m).upper() for m in out["methods"]})
    return dict(canonical(out))


def trigger(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A trigger (fc3 props or FC's trigger body) as its name and canonical form."""
    kind = str(spec.get("triggerType", ""))
    out: dict[str, Any] = {
        k: v
        for k, v in spec.items()
        if k not in TRIGGER_SERVER and k != "triggerName" and v is not None and v != ""
    }
    out["triggerConfig"] = _trigger_config(kind, spec.get("triggerConfig"))
    out = _with_defaults(out, TRIGGER_DEFAULTS)
    return str(spec["triggerName"]), dict(canonical(out))


def triggers(specs: list[Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    found = dict(trigger(spec) for spec in specs or [])
    return {name: found[name] for name in sorted(found)}


def trigger_wire(name: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """CreateTrigger's body for a trigger of a state (UpdateTrigger takes a subset)."""
    body = {k: copy.deepcopy(v) for k, v in state.items() if k != "triggerConfig"}
    body["triggerName"] = name
    body["triggerConfig"] = json.dumps(state.get("triggerConfig") or {}, separators=(",", ":"))
    return body


# -- function configs ----------------------------------------------------------


def _config(body: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any] | None:
    if body is None:
        return None
    out = _with_defaults(
        {k: v for k, v in _clean(body).items() if k not in CONFIG_SERVER}, defaults
    )
    return dict(canonical(out))


def async_invoke_config(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return _config(body, ASYNC_DEFAULTS)


def provision_config(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """fc3 writes ``target`` (its e2e files) or ``defaultTarget``; fc3's ``mode`` is how
    its CLI waits, not configuration. Target 0 with nothing scheduled is no config."""
    if body is None:
        return None
    out = {k: v for k, v in body.items() if k not in ("mode", "defaultTarget")}
    target = body.get("defaultTarget") if body.get("target") is None else body.get("target")
    out["target"] = int(target or 0)
    config = _config(out, PROVISION_DEFAULTS)
    if (
        config is not None
        and config["target"] == 0
        and not (config.get("scheduledActions") or config.get("targetTrackingPolicies"))
    ):
        return None
    return config


def concurrency_config(body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if body is None or body.get("reservedConcurrency") is None:
        return None
    return {"reservedConcurrency": int(body["reservedConcurrency"])}


def config_wire(state: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A configured sub-resource as the qualifier its Put call names and the body."""
    body = {k: copy.deepcopy(v) for k, v in state.items() if k != "qualifier"}
    return str(state.get("qualifier") or LATEST), body


# -- custom domain -------------------------------------------------------------


def _route(route: Mapping[str, Any]) -> dict[str, Any]:
    out = _with_defaults(
        {k: v for k, v in _clean(route).items() if k != "functionName"}, ROUTE_DEFAULTS
    )
    if isinstance(out.get("methods"), list):
        out["methods"] = sorted({str(m).upper() for m in out["methods"]})
    return dict(canonical(out))


def custom_domain(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """fc3's ``customDomain`` prop (one route for this function) in canonical form."""
    if spec is None:
        return None
    out = {k: v for k, v in _clean(spec).items() if k not in DOMAIN_SERVER and k != "route"}
    out = _with_defaults(out, DOMAIN_DEFAULTS)
    out["route"] = _route(spec.get("route") or {})
    return dict(canonical(out))


def live_custom_domain(body: Mapping[str, Any], function: str) -> dict[str, Any] | None:
    """A domain FC reports (GetCustomDomain) as ``function``'s customDomain, if it
    routes to the function (the first such route)."""
    routes = ((body.get("routeConfig") or {}).get("routes")) or []
    mine = [r for r in routes if isinstance(r, Mapping) and r.get("functionName") == function]
    if not mine:
        return None
    return custom_domain({**body, "route": mine[0]})


def domain_routes(
    state: Mapping[str, Any] | None, function: str, live: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The routes a domain should have: other functions' routes as they are live, and
    this function's route as ``state`` says (none when ``state`` is None)."""
    routes = ((live or {}).get("routeConfig") or {}).get("routes") or []
    others = [
        copy.deepcopy(dict(r))
        for r in routes
        if isinstance(r, Mapping) and r.get("functionName") != function
    ]
    if state is not None:
        others.append({**copy.deepcopy(state["route"]), "functionName": function})
    return others


def domain_wire(state: Mapping[str, Any]) -> dict[str, Any]:
    """The domain-level fields of a customDomain state (routes are added by the caller)."""
    return {k: copy.deepcopy(v) for k, v in state.items() if k != "route"}


# -- states and props ----------------------------------------------------------


def of_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """The sub-resources of fc3 props, canonical; absent ones left out."""
    out: dict[str, Any] = {TRIGGERS: triggers(props.get(TRIGGERS))}
    for key, normal in (
        (ASYNC_INVOKE, async_invoke_config),
        (PROVISION, provision_config),
        (CONCURRENCY, concurrency_config),
        (DOMAIN, custom_domain),
    ):
        value = normal(props.get(key))
        if value is not None:
            out[key] = value
    return out


def as_props(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state's sub-resources in fc3's props shape (triggers as a list)."""
    out = {k: copy.deepcopy(v) for k, v in state.items() if k in SUBRESOURCES}
    found = out.pop(TRIGGERS, None)
    if found:
        out[TRIGGERS] = [{"triggerName": name, **t} for name, t in found.items()]
    return out
