"""FC's input rules: names, function specs, and the exact JSON shapes the API accepts.

Shapes are checked as strictly as the SDK's models parse them: a value echoed
back with the wrong shape would make the SDK silently return ``body=None``.

FC's cpu/memory/disk rules (``check_spec``, ``default_cpu``, ``default_memory``)
repeat ``service.functions.specs`` on purpose: the emulator stands in for FC,
so it checks what fcplane sends independently of fcplane's own copy, and a
mistake there is not mirrored here. tests/functions compares the two defaults.
"""

from __future__ import annotations

import json
import re
from typing import Any

from service.emulator.errors import invalid

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
# Aliases, triggers and layers follow the same character rule as functions.

STANDARD_RUNTIMES = frozenset({"python3.9", "python3.10", "python3.12"})
CUSTOM_RUNTIMES = frozenset({"custom", "custom.debian10", "custom.debian11", "custom.debian12"})
CONTAINER_RUNTIME = "custom-container"
OTHER_RUNTIMES = frozenset(
    {
        "python3",
        "nodejs12",
        "nodejs14",
        "nodejs16",
        "nodejs18",
        "nodejs20",
        "go1",
        "java8",
        "java11",
        "php7.2",
        "dotnetcore3.1",
    }
)
RUNTIMES = STANDARD_RUNTIMES | CUSTOM_RUNTIMES | OTHER_RUNTIMES | {CONTAINER_RUNTIME}

# kind names: str, int, num, bool, obj, list_obj, list_str, map_str, any
FUNCTION_FIELDS: dict[str, str] = {
    "code": "obj",
    "cpu": "num",
    "customContainerConfig": "obj",
    "customDNS": "obj",
    "customRuntimeConfig": "obj",
    "description": "str",
    "disableInjectCredentials": "str",
    "disableOndemand": "bool",
    "diskSize": "int",
    "enableLongLiving": "bool",
    "environmentVariables": "map_str",
    "functionName": "str",
    "gpuConfig": "obj",
    "handler": "str",
    "idleTimeout": "int",
    "instanceConcurrency": "int",
    "instanceIsolationMode": "str",
    "instanceLifecycleConfig": "obj",
    "internetAccess": "bool",
    "juiceFsConfig": "obj",
    "layers": "list_str",
    "logConfig": "obj",
    "memorySize": "int",
    "microSandboxConfig": "obj",
    "nasConfig": "obj",
    "ossMountConfig": "obj",
    "polarFsConfig": "obj",
    "resourceGroupId": "str",
    "role": "str",
    "runtime": "str",
    "sessionAffinity": "str",
    "sessionAffinityConfig": "str",
    "tags": "list_obj",
    "timeout": "int",
    "tracingConfig": "obj",
    "vpcConfig": "obj",
}
UPDATE_FUNCTION_FIELDS = {
    k: v for k, v in FUNCTION_FIELDS.items() if k not in {"functionName", "tags", "resourceGroupId"}
}
ALIAS_FIELDS = {
    "additionalVersionWeight": "map_num",
    "aliasName": "str",
    "description": "str",
    "versionId": "str",
}
TRIGGER_FIELDS = {
    "description": "str",
    "invocationRole": "str",
    "qualifier": "str",
    "sourceArn": "str",
    "triggerConfig": "str",
    "triggerName": "str",
    "triggerType": "str",
}
UPDATE_TRIGGER_FIELDS = {
    k: TRIGGER_FIELDS[k] for k in ("description", "invocationRole", "qualifier", "triggerConfig")
}
VERSION_FIELDS = {"description": "str"}
PROVISION_FIELDS = {
    "alwaysAllocateCPU": "bool",
    "alwaysAllocateGPU": "bool",
    "defaultTarget": "int",
    "scheduledActions": "list_obj",
    "target": "int",
    "targetTrackingPolicies": "list_obj",
}
CONCURRENCY_FIELDS = {"reservedConcurrency": "int"}
ASYNC_CONFIG_FIELDS = {
    "asyncTask": "bool",
    "destinationConfig": "obj",
    "maxAsyncEventAgeInSeconds": "int",
    "maxAsyncRetryAttempts": "int",
}
LAYER_FIELDS = {
    "code": "obj",
    "compatibleRuntime": "list_str",
    "description": "str",
    "license": "str",
}


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "num":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "obj":
        return isinstance(value, dict)
    if kind == "list_obj":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if kind == "list_str":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "map_str":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind == "map_num":
        return isinstance(value, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        )
    return True


_KIND_WORDS = {
    "str": "a string",
    "int": "an integer",
    "num": "a number",
    "bool": "a boolean",
    "obj": "an object",
    "list_obj": "a list of objects",
    "list_str": "a list of strings",
    "map_str": "an object of string values",
    "map_num": "an object of numeric values",
}


def parse_body(raw: bytes, fields: dict[str, str]) -> dict[str, Any]:
    """Decode a JSON object body, refusing unknown fields and wrongly typed values."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise invalid(f"unknown field(s) in request body: {', '.join(unknown)}")
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if not _kind_ok(fields[key], value):
            raise invalid(f"{key} must be {_KIND_WORDS[fields[key]]}")
        cleaned[key] = value
    return cleaned


def check_name(what: str, name: str) -> None:
    if not NAME_RE.match(name):
        raise invalid(
            f"{what} {name!r} is invalid: 1-64 letters, digits, '_' or '-', "
            "not starting with a digit or '-'"
        )


def _is_multiple(value: float, step: float) -> bool:
    return abs(round(value / step) * step - value) < 1e-9


def default_cpu(memory_mb: int) -> float:
    """FC's default CPU is 0.35 vCPU at 512 MB; scale with memory, within the ratio rule."""
    gb = memory_mb / 1024
    cpu = round(gb / 1.5 / 0.05) * 0.05
    cpu = min(max(cpu, gb / 4, 0.05), gb, 16.0)
    return round(round(cpu / 0.05) * 0.05, 2)


def default_memory(cpu: float) -> int:
    mb = round(cpu * 1.5 * 1024 / 64) * 64
    lo, hi = max(128, cpu * 1024), min(32768, cpu * 4 * 1024)
    while mb < lo:
        mb += 64
    while mb > hi:
        mb -= 64
    return int(mb)


def check_spec(config: dict[str, Any]) -> None:
    """FC's rules for cpu, memory, disk, timeout and concurrency (on the merged config)."""
    cpu = float(config["cpu"])
    memory = int(config["memorySize"])
    if not (0.05 <= cpu <= 16) or not _is_multiple(cpu, 0.05):
        raise invalid(f"cpu {cpu} is invalid: a multiple of 0.05 between 0.05 and 16 vCPU")
    if not (128 <= memory <= 32768) or memory % 64:
        raise invalid(
            f"memorySize {memory} is invalid: a multiple of 64 MB between 128 and 32768 MB"
        )
    ratio = memory / 1024 / cpu
    if not (1 - 1e-9 <= ratio <= 4 + 1e-9):
        raise invalid(
            f"memorySize {memory} MB and cpu {cpu} vCPU are invalid: memory in GB divided by "
            f"cpu must be between 1 and 4 (it is {ratio:.2f})"
        )
    if config["diskSize"] not in (512, 10240):
        raise invalid(f"diskSize {config['diskSize']} is invalid: 512 or 10240 MB")
    if not (1 <= config["timeout"] <= 86400):
        raise invalid(f"timeout {config['timeout']} is invalid: 1 to 86400 seconds")
    if not (1 <= config["instanceConcurrency"] <= 200):
        raise invalid(f"instanceConcurrency {config['instanceConcurrency']} is invalid: 1 to 200")
    runtime = config["runtime"]
    if runtime not in RUNTIMES:
        raise invalid(f"runtime {runtime!r} is not supported; one of {', '.join(sorted(RUNTIMES))}")
    if not config.get("handler"):
        raise invalid("handler is required")
    if runtime == CONTAINER_RUNTIME and not (config.get("customContainerConfig") or {}).get(
        "image"
    ):
        raise invalid("customContainerConfig.image is required for runtime custom-container")
    if runtime in CUSTOM_RUNTIMES:
        command = (config.get("customRuntimeConfig") or {}).get("command")
        if command is not None and not (
            isinstance(command, list) and all(isinstance(c, str) for c in command)
        ):
            raise invalid("customRuntimeConfig.command must be a list of strings")
    env = config.get("environmentVariables") or {}
    if any(k.startswith("FC_") for k in env):
        raise invalid("environment variable names starting with FC_ are reserved")
    if len(json.dumps(env)) > 4096:
        raise invalid("environment variables together exceed 4 KB")
    check_tags(config.get("tags") or [])


# FC's tag rules ("Configure tags" in the FC 3.0 user guide): at most 20 tags per
# resource; keys 1-64 characters, not starting with "aliyun" or "acs:"; values up to
# 128 characters and may be empty; neither may contain "http://" or "https://".
MAX_TAGS = 20
MAX_TAG_KEY = 64
MAX_TAG_VALUE = 128


def check_tag(key: object, value: object) -> tuple[str, str]:
    if not isinstance(key, str) or not key:
        raise invalid("a tag Key must be a non-empty string")
    if len(key) > MAX_TAG_KEY:
        raise invalid(f"tag key {key[:20]!r}... is invalid: at most {MAX_TAG_KEY} characters")
    if key.startswith(("aliyun", "acs:")):
        raise invalid(f"tag key {key!r} is invalid: it may not start with 'aliyun' or 'acs:'")
    if not isinstance(value, str):
        raise invalid(f"the Value of tag {key!r} must be a string")
    if len(value) > MAX_TAG_VALUE:
        raise invalid(f"the value of tag {key!r} is invalid: at most {MAX_TAG_VALUE} characters")
    for text in (key, value):
        if "http://" in text or "https://" in text:
            raise invalid(f"tag {key!r} is invalid: keys and values may not contain http(s)://")
    return key, value


def check_tags(tags: list[Any]) -> dict[str, str]:
    """Validate ``[{"Key", "Value"}]`` (a missing Value is empty) into a key → value map."""
    found: dict[str, str] = {}
    for tag in tags:
        if not isinstance(tag, dict):
            raise invalid("tags must be objects with a string Key and Value")
        unknown = sorted(set(tag) - {"Key", "Value"})
        if unknown:
            raise invalid(f"unknown field(s) in a tag: {', '.join(unknown)} (Key and Value)")
        key, value = check_tag(tag.get("Key"), tag.get("Value", ""))
        if key in found:
            raise invalid(f"tag key {key!r} is given more than once")
        found[key] = value
    if len(found) > MAX_TAGS:
        raise invalid(f"{len(found)} tags given: a resource can have at most {MAX_TAGS} tags")
    return found
