"""Template resources that are not functions: reported, with what the user must do instead.

fc-transform turned Log projects into ``devsapp/sls`` entries (a 2.x component that
``s2tos3`` leaves untouched) and skipped the rest with a log line. An fc3 s.yaml holds
functions; the infrastructure these resources declare must exist before the functions
that use it are deployed, so each is reported with its contents.
"""

from __future__ import annotations

from typing import Any

from service.projects.fun2s.context import Context, Path

MNS_TOPIC = "Aliyun::Serverless::MNSTopic"


def declared_topics(resources: dict[str, Any]) -> dict[str, str]:
    """Region of each MNS topic the template declares, by topic name."""
    return {
        str(key): str(resource["Properties"]["Region"])
        for key, resource in resources.items()
        if isinstance(resource, dict)
        and resource.get("Type") == MNS_TOPIC
        and isinstance(resource.get("Properties"), dict)
        and "Region" in resource["Properties"]
    }


def report_resource(ctx: Context, key: str, resource: Any, path: Path) -> None:
    if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
        ctx.drop(path, "a resource needs a Type")
        return
    kind: str = resource["Type"]
    properties = resource.get("Properties")
    properties = properties if isinstance(properties, dict) else {}
    children = [str(c) for c in resource if c not in ("Type", "Properties")]
    ctx.drop(path, _reason(kind, key, properties, children))


def _reason(kind: str, key: str, properties: dict[str, Any], children: list[str]) -> str:
    if kind == "Aliyun::Serverless::Log":
        stores = ", ".join(children) or "none"
        return (
            f"SLS project {key} (logstores: {stores}) is infrastructure, not a function: create "
            "it (SLS console or the sls component) before deploying functions that log or "
            "trigger on it"
        )
    if kind == "Aliyun::Serverless::TableStore":
        tables = ", ".join(children) or "none"
        return (
            f"Tablestore instance {key} (tables: {tables}) is infrastructure, not a function: "
            "create it, with Stream enabled on tables that trigger functions, before deploying"
        )
    if kind == MNS_TOPIC:
        region = properties.get("Region", "?")
        return (
            f"MNS topic {key} (region {region}) is infrastructure, not a function: create it "
            "before deploying functions it triggers"
        )
    if kind == "Aliyun::Serverless::Api":
        return (
            "API Gateway APIs are not FC resources: re-create the API in API Gateway with the "
            "FC 3.0 functions (<service>$<function>) as backends"
        )
    if kind == "Aliyun::Serverless::Flow":
        return "Serverless Workflow flows are not FC resources: deploy the flow with CloudFlow"
    return f"unknown resource type {kind!r}"
