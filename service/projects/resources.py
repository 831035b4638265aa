"""From an s.yaml resource to what a function deploy takes, or a 422 saying why not.

Each fc3 resource is one function (props = the function and its triggers,
configs and custom-domain route), deployed through the same engine as a
single-function deploy. What fcplane cannot deploy is refused here, naming
the prop: other components, ``auto`` (fc3 creates VPCs, NAS, SLS projects,
roles: fcplane creates no cloud resources), OSS code objects, and — against
the bundled emulator — what it cannot run (container images, EventBridge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from service.functions.schemas import FunctionConfig
from service.kit.errors import InvalidInput
from service.projects.source import SECRET_CONFIG_KEYS, SECRET_MARKER, code_path
from service.projects.spec import Resource

COMPONENT = "fc3"
# fc3 props that create cloud resources when set to `auto`.
AUTO_PROPS = ("vpcConfig", "nasConfig", "logConfig", "ossMountConfig", "role")
# fc3 props fcplane does not deploy, and why.
UNSUPPORTED_PROPS = {
    "vpcBinding": "VPC bindings are not managed by fcplane",
    "scalingConfig": "scaling configs (resident pools) are not managed by fcplane; use "
    "provisionConfig",
    "endpoint": "fcplane reaches FC through the account's endpoint",
}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class UnsupportedResource(InvalidInput):
    code, title = "unsupported_resource", "Resource not supported"


def is_emulator(endpoint: str) -> bool:
    return urlsplit(endpoint).hostname in _LOOPBACK


@dataclass(frozen=True)
class Deployable:
    """One resource ready for the function deploy engine (``config`` None: pending)."""

    name: str
    function: str
    config: FunctionConfig | None
    code_sha256: str | None
    after: tuple[str, ...]


def _refuse(resource: str, prop: str, reason: str) -> UnsupportedResource:
    field = f"resources.{resource}.props.{prop}" if prop else f"resources.{resource}"
    return UnsupportedResource(f"{field}: {reason}", field=field, resource=resource)


def check_component(resource: Resource) -> None:
    if resource.component != COMPONENT:
        raise UnsupportedResource(
            f"resources.{resource.name}.component: '{resource.component}' is not supported; "
            "fcplane deploys fc3 resources (a custom domain is the fc3 `customDomain` prop)",
            field=f"resources.{resource.name}.component",
            resource=resource.name,
        )


def _check_props(name: str, props: Mapping[str, Any], emulator: bool) -> None:
    for prop, reason in UNSUPPORTED_PROPS.items():
        if prop in props:
            raise _refuse(name, prop, reason)
    for prop in AUTO_PROPS:
        if props.get(prop) == "auto" or (
            isinstance(props.get(prop), Mapping) and "auto" in props[prop].values()
        ):
            raise _refuse(
                name,
                prop,
                "`auto` makes fc3 create cloud resources; fcplane creates none — give the "
                "concrete config",
            )
    if _carries_secret(props):
        raise _refuse(
            name,
            "",
            f"${{config('{SECRET_CONFIG_KEYS[0]}')}} and ${{config('{SECRET_CONFIG_KEYS[1]}')}} "
            "are not written into a function: they would be stored in its revisions and shown "
            "in FC's console; give the function a role instead",
        )
    if emulator:
        if props.get("runtime") in ("custom-container", "micro-sandbox"):
            raise _refuse(name, "runtime", "the bundled emulator cannot run container images")
        for index, trigger in enumerate(props.get("triggers") or []):
            if isinstance(trigger, Mapping) and trigger.get("triggerType") == "eventbridge":
                raise _refuse(
                    name,
                    f"triggers[{index}]",
                    "the bundled emulator cannot fire EventBridge sources",
                )


def _carries_secret(value: Any) -> bool:
    if isinstance(value, str):
        return SECRET_MARKER in value
    if isinstance(value, Mapping):
        return any(_carries_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_carries_secret(v) for v in value)
    return False


def _code(name: str, props: Mapping[str, Any], code: Mapping[str, str]) -> str | None:
    value = props.get("code")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refuse(
            name, "code", "only a code directory is supported (not an OSS object or inline code)"
        )
    wanted = code_path(value)
    by_path = {code_path(path): sha for path, sha in code.items()}
    if wanted not in by_path:
        raise _refuse(
            name,
            "code",
            f"no package for '{value}': zip the directory, upload it with "
            "PUT /v1/code-packages/{sha256} and list it in the project's `code`",
        )
    return by_path[wanted]


def function_config(name: str, props: Mapping[str, Any]) -> FunctionConfig:
    try:
        return FunctionConfig.model_validate({k: v for k, v in props.items() if k != "code"})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _refuse(name, where, first["msg"]) from None


def deployable(
    resource: Resource,
    props: Mapping[str, Any] | None,
    code: Mapping[str, str],
    region: str,
    emulator: bool,
) -> Deployable:
    """``props``: resolved props, or None while they wait for other resources' outputs
    (then the parts known now are checked from ``resource.props``)."""
    check_component(resource)
    known = props if props is not None else resource.props
    function = known.get("functionName")
    if not isinstance(function, str) or not function:
        raise _refuse(resource.name, "functionName", "required (fc3 names the function by it)")
    _check_props(resource.name, known, emulator)
    if isinstance(known.get("region"), str) and known["region"] != region:
        raise _refuse(
            resource.name,
            "region",
            f"'{known['region']}' is not the target account's region ({region})",
        )
    sha = _code(resource.name, known, code)
    config = function_config(resource.name, props) if props is not None else None
    return Deployable(resource.name, function, config, sha, tuple(sorted(resource.depends_on)))
