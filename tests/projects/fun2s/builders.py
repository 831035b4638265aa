"""Small Funcraft templates built in code, and accessors for what the conversion made of them."""

from __future__ import annotations

from typing import Any

import yaml

from service.projects.fun2s import Conversion, Unmapped

SERVICE = "Aliyun::Serverless::Service"
FUNCTION = "Aliyun::Serverless::Function"


def template(
    *,
    service: dict[str, Any] | None = None,
    function: dict[str, Any] | None = None,
    events: dict[str, Any] | None = None,
    resources: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
) -> str:
    """One service ``svc`` with one python3 function ``fn``, plus whatever is given."""
    properties = {"Handler": "index.handler", "Runtime": "python3", "CodeUri": "./"}
    fn: dict[str, Any] = {"Type": FUNCTION, "Properties": {**properties, **(function or {})}}
    if events is not None:
        fn["Events"] = events
    svc: dict[str, Any] = {"Type": SERVICE}
    if service is not None:
        svc["Properties"] = service
    svc["fn"] = fn
    document = {
        "ROSTemplateFormatVersion": "2015-09-01",
        "Transform": "Aliyun::Serverless-2018-04-03",
        **(top or {}),
        "Resources": {"svc": svc, **(resources or {})},
    }
    return yaml.safe_dump(document, sort_keys=False)


def props(conversion: Conversion, function_name: str = "svc$fn") -> dict[str, Any]:
    for resource in conversion.document["resources"].values():
        if resource["props"]["functionName"] == function_name:
            found: dict[str, Any] = resource["props"]
            return found
    raise AssertionError(f"no resource for {function_name}")


def trigger(conversion: Conversion, name: str, function_name: str = "svc$fn") -> dict[str, Any]:
    for item in props(conversion, function_name).get("triggers", []):
        if item["triggerName"] == name:
            found: dict[str, Any] = item
            return found
    raise AssertionError(f"no trigger {name}")


def unmapped_at(conversion: Conversion, path: str) -> Unmapped:
    matches = [u for u in conversion.unmapped if u.path == path]
    assert matches, f"nothing unmapped at {path}: {conversion.unmapped}"
    assert matches[0].reason
    return matches[0]


def warned(conversion: Conversion, path: str, fragment: str) -> bool:
    return any(w.startswith(path + ":") and fragment in w for w in conversion.warnings)
