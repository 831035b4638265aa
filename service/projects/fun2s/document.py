"""The s.yaml document: resource keys, a stable key order, and readable YAML text."""

from __future__ import annotations

import re
from typing import Any

import yaml

from service.projects.fun2s.context import REGION
from service.projects.fun2s.flatten import Function

EDITION = "3.0.0"
# fc3's props in the order a reader looks for them: identity, code, sizing, wiring.
PROP_ORDER = (
    "region",
    "functionName",
    "description",
    "runtime",
    "handler",
    "code",
    "timeout",
    "memorySize",
    "cpu",
    "diskSize",
    "instanceConcurrency",
    "internetAccess",
    "role",
    "environmentVariables",
    "layers",
    "logConfig",
    "vpcConfig",
    "nasConfig",
    "tracingConfig",
    "customContainerConfig",
    "customRuntimeConfig",
    "instanceLifecycleConfig",
    "asyncInvokeConfig",
    "triggers",
    "customDomain",
)
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


def build_document(
    name: str, access: str, region: str, functions: list[Function]
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for function in functions:
        key = _resource_key(function, resources)
        props = {"region": REGION, **function.props}
        resources[key] = {"component": "fc3", "props": _ordered(props)}
    return {
        "edition": EDITION,
        "name": name,
        "access": access,
        "vars": {"region": region},
        "resources": resources,
    }


def _resource_key(function: Function, taken: dict[str, Any]) -> str:
    # fc-transform's fc-<service>-<function>, limited to characters that survive a
    # ${resources.<key>...} reference (no dots).
    base = _UNSAFE_KEY.sub("_", f"fc-{function.service}-{function.name}")
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


def _ordered(props: dict[str, Any]) -> dict[str, Any]:
    rank = {key: i for i, key in enumerate(PROP_ORDER)}
    return dict(sorted(props.items(), key=lambda item: rank.get(item[0], len(rank))))


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_ODD_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if any(c in data for c in _ODD_BREAKS):
        # PyYAML writes these raw in plain/single-quoted text and reads them back as spaces.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_str(data)


_Dumper.add_representer(str, _represent_str)


def dump(document: dict[str, Any], filename: str, unmapped: int) -> str:
    header = [f"# Converted from Funcraft {filename} for FC 3.0 (component fc3) by fcplane fun2s."]
    if unmapped:
        header.append(
            f"# {unmapped} template item(s) were not converted: see the conversion report."
        )
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body
