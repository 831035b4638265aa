"""Services out, functions in: FC 3.0 has no services, so each function carries its service.

Functions are named ``<service>$<function>`` — the name FC 3.0 gives a 2.0 function
and the one fc3's ``s2tos3`` writes. The service's settings (role, network, NAS, logs)
are copied into every one of its functions' props, rather than into an s.yaml
``template`` the way ``s2tos3`` does, so each resource reads on its own.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from service.projects.fun2s.context import Context, Path, role_arn
from service.projects.fun2s.functions import convert_function
from service.projects.fun2s.triggers import convert_events

SERVICE = "Aliyun::Serverless::Service"
FUNCTION = "Aliyun::Serverless::Function"


@dataclass
class Function:
    service: str
    name: str
    path: Path
    props: dict[str, Any]
    routes: list[str] = field(default_factory=list)  # custom-domain routes attached to it

    @property
    def function_name(self) -> str:
        return f"{self.service}${self.name}"

    @property
    def http_qualifiers(self) -> list[str]:
        triggers: list[dict[str, Any]] = self.props.get("triggers", [])
        return [t.get("qualifier", "LATEST") for t in triggers if t["triggerType"] == "http"]


def flatten_service(ctx: Context, key: str, resource: dict[str, Any], path: Path) -> list[Function]:
    properties = ctx.mapping((*path, "Properties"), resource.get("Properties") or {}) or {}
    settings = _service_settings(ctx, key, properties, path)
    functions: list[Function] = []
    for child, value in resource.items():
        if child in ("Type", "Properties"):
            continue
        here = (*path, child)
        if not isinstance(value, dict) or value.get("Type") != FUNCTION:
            ctx.drop(here, "not an Aliyun::Serverless::Function; a service holds only functions")
            continue
        props = convert_function(ctx, key, child, value, here)
        triggers = convert_events(ctx, value.get("Events"), (*here, "Events"), key, child)
        if triggers:
            props["triggers"] = triggers
        props.update(copy.deepcopy(settings))
        functions.append(Function(key, child, here, props))
    if not functions:
        ctx.drop(path, "a service without functions: FC 3.0 has no services, nothing to create")
    _hand_down_description(ctx, properties.get("Description"), functions, path)
    return functions


def _hand_down_description(
    ctx: Context, description: Any, functions: list[Function], path: Path
) -> None:
    if description is None:
        return
    here = (*path, "Properties", "Description")
    text = ctx.text(here, description)
    if text is None:
        return
    heirs = [f for f in functions if "description" not in f.props]
    for function in heirs:
        function.props["description"] = text
    if heirs:
        names = ", ".join(f.function_name for f in heirs)
        ctx.warn(here, f"the service description is given to functions without one: {names}")
    elif functions:
        ctx.drop(here, "FC 3.0 has no services and every function has its own description")


def _service_settings(
    ctx: Context, service: str, properties: dict[str, Any], path: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    here = (*path, "Properties")
    for key, value in properties.items():
        at = (*here, key)
        if key == "Description":
            continue  # handed down once the functions are known
        elif key == "Role":
            role = ctx.text(at, value)
            if role is not None:
                out["role"] = role
        elif key == "Policies":
            if "Role" in properties:
                ctx.drop(at, "ignored, as Funcraft ignores Policies when Role is set")
            else:
                out["role"] = _generated_role(ctx, service, value, at)
        elif key == "InternetAccess":
            flag = ctx.boolean(at, value)
            if flag is not None:
                out["internetAccess"] = flag
        elif key == "VpcConfig":
            _put(out, "vpcConfig", _vpc_config(ctx, value, at))
        elif key == "LogConfig":
            _put(out, "logConfig", _log_config(ctx, value, at))
        elif key == "NasConfig":
            _put(out, "nasConfig", _nas_config(ctx, value, at))
        elif key == "TracingConfig":
            if value != "Disable":
                ctx.drop(
                    at,
                    "fc3's tracingConfig needs a Jaeger endpoint ({type: Jaeger, params: "
                    "{endpoint}}); Funcraft's Enable had it looked up: add it by hand",
                )
        else:
            ctx.drop(at, "not a Funcraft service property")
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _generated_role(ctx: Context, service: str, policies: Any, path: Path) -> str:
    # Funcraft attached Policies to a role it created for the service; a migrated app
    # already has that role, and FC 3.0 takes a role ARN, never a list of policies.
    name = f"aliyunfcgeneratedrole-{ctx.region}-{service}".replace("_", "-")
    items = policies if isinstance(policies, list) else [policies]
    managed = [p for p in items if isinstance(p, str)]
    inline = len(items) - len(managed)
    wanted = ", ".join(managed) or "none"
    ctx.drop(
        path,
        f"FC 3.0 takes a role ARN, not policies: role is set to {name}, the role Funcraft "
        f"generated for this service; if it does not exist, create it for fc.aliyuncs.com "
        f"with these policies (managed: {wanted}; inline documents: {inline})",
    )
    return role_arn(name)


def _vpc_config(ctx: Context, value: Any, path: Path) -> Any:
    if isinstance(value, str) and value.lower() == "auto":
        return "auto"
    config = ctx.mapping(path, value)
    if config is None:
        return None
    renames = {"VpcId": "vpcId", "VSwitchIds": "vSwitchIds", "SecurityGroupId": "securityGroupId"}
    out: dict[str, Any] = {}
    for key, item in config.items():
        if key in renames:
            out[renames[key]] = [item] if key == "VSwitchIds" and isinstance(item, str) else item
        else:
            ctx.drop((*path, key), "not a Funcraft VpcConfig property")
    return out


def _log_config(ctx: Context, value: Any, path: Path) -> Any:
    if isinstance(value, str) and value.lower() == "auto":
        return "auto"
    config = ctx.mapping(path, value)
    if config is None:
        return None
    renames = {
        "Project": "project",
        "Logstore": "logstore",
        "EnableRequestMetrics": "enableRequestMetrics",
        "EnableInstanceMetrics": "enableInstanceMetrics",
        "LogBeginRule": "logBeginRule",
    }
    out: dict[str, Any] = {}
    for key, item in config.items():
        if key in renames:
            out[renames[key]] = item
        else:
            ctx.drop((*path, key), "not a Funcraft LogConfig property")
    return out if out.get("project") or out.get("logstore") else None


_NAS_REGION = re.compile(r"\.([a-z]{2}-[a-z0-9-]+?)\.(?:extreme\.)?nas\.aliyuncs\.com")


def nas_region(properties: Any) -> str | None:
    """The region a service's NAS mount target names, if any: FC must run beside it."""
    if not isinstance(properties, dict) or not isinstance(properties.get("NasConfig"), dict):
        return None
    for point in properties["NasConfig"].get("MountPoints") or []:
        found = isinstance(point, dict) and _NAS_REGION.search(str(point.get("ServerAddr", "")))
        if found:
            return found.group(1)
    return None


def _nas_config(ctx: Context, value: Any, path: Path) -> Any:
    if isinstance(value, str) and value.lower() == "auto":
        return "auto"
    config = ctx.mapping(path, value)
    if config is None:
        return None
    if config.get("Auto") is True:
        ctx.warn(path, "Auto: true becomes fc3's nasConfig: auto, which picks its own user/group")
        return "auto"
    out: dict[str, Any] = {}
    for key, item in config.items():
        if key == "UserId":
            out["userId"] = item
        elif key == "GroupId":
            out["groupId"] = item
        elif key == "MountPoints":
            out["mountPoints"] = _mount_points(ctx, item, (*path, key))
        elif key != "Auto":
            ctx.drop((*path, key), "not a Funcraft NasConfig property")
    return out


def _mount_points(ctx: Context, value: Any, path: Path) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    for i, item in enumerate(value if isinstance(value, list) else []):
        at = (*path, str(i))
        if not isinstance(item, dict) or "ServerAddr" not in item or "MountDir" not in item:
            ctx.drop(at, "a mount point needs ServerAddr and MountDir")
            continue
        address = str(item["ServerAddr"])
        if ":" not in address:
            address += ":/"
            ctx.warn(at, f"ServerAddr has no NAS path; mounting the root: {address}")
        points.append({"serverAddr": address, "mountDir": item["MountDir"]})
    return points
