"""FC function configs in one canonical shape, so that comparing two of them means something.

Input is either a config a user submitted (wire names, as CreateFunctionInput /
UpdateFunctionInput, possibly partial) or a GetFunction body. The canonical form:

- server-managed fields (ids, times, state, code size/checksum, ...) are dropped,
  and so are ``code`` (compared separately, by checksum), ``functionName`` (the
  identity, not config) and ``resourceGroupId`` (FC assigns one when none is
  given, and only ChangeResourceGroup can move it);
- a field with a known FC default is always present (the default when absent);
  a field whose value means "not set" (a blank string, an empty list) is absent;
- ``environmentVariables`` is ``{name: str}``; ``tags`` is ``{key: str}`` (the
  wire's ``[{"Key", "Value"}]`` folded to a map, so each tag is its own diff
  path); ``layers`` is the list of ARN strings in the given order (FC gives the
  first-listed layer precedence, so order is config);
- a nested block (vpcConfig, logConfig, ...) has its defaults filled in, and is
  absent when it configures nothing: None, {}, [], a block of defaults, and a
  block whose deciding fields are unset (a logConfig without project and
  logstore, a nasConfig without mount points) are the same config;
- numbers are canonical (``1.0`` is ``1``; cpu is rounded to FC's 0.05 steps);
- dict keys are sorted everywhere; lists keep their order;
- fields this module does not know are kept as given, so a new FC field still
  shows up in a diff.

The canonical form is also a valid CreateFunction body (once ``tags`` goes back
to the wire shape and functionName and code are added); for UpdateFunction, add
``resets()`` so that what the canonical form leaves out is switched off.

Every default lives in the tables below. The ones marked *unconfirmed* have no
primary source; correct them there.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# default_cpu and default_memory are part of this module's interface too: what
# normalize() fills in when a config gives only one of cpu and memorySize.
from service.functions.specs import default_cpu as default_cpu
from service.functions.specs import default_memory as default_memory

# The JSON pointer a code package's checksum takes in a function's state:
# normalize() drops ``code`` and callers put the checksum back under this path.
CODE_PATH = "/code"

# --- The defaults table -------------------------------------------------------
#
# Two kinds of entry. A *default* is filled in when a field is absent, so the
# canonical form states it; only values that are documented, or at least safe
# to send back to FC, are defaults (deploys send the canonical form). A
# *neutral* value means the same as absence and is dropped: blank strings,
# empty lists, and guessed defaults too uncertain to send.

# Top-level fields filled when absent or None.
TOP_DEFAULTS: dict[str, Any] = {
    "description": "",  # fc3 component FUNCTION_DEFAULT_CONFIG
    "internetAccess": True,  # API reference: "Default value: true"
    "timeout": 3,  # API reference / SDK (Function.timeout): "the default value is 3"
    "diskSize": 512,  # unconfirmed: valid 512 | 10240; 512 is the console's and the emulator's
    "instanceConcurrency": 1,  # fc3 FUNCTION_CUSTOM_DEFAULT_CONFIG; emulator
    "memorySize": 512,  # unconfirmed: FC 2.0 documented 128; 3.0 documents none; emulator: 512
    # cpu: derived from memorySize by specs.default_cpu() (unconfirmed).
    "environmentVariables": {},
    "layers": [],
    "tags": {},
    "disableOndemand": False,  # unconfirmed, but false is the only harmless value
    "sessionAffinity": "NONE",  # SDK doc: "If not set or set to NONE, no affinity"
    "disableInjectCredentials": "None",  # unconfirmed; SDK doc: "None: injects in all ways"
    "enableLongLiving": False,  # unconfirmed
}
# Top-level values that mean "not set", dropped.
TOP_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "role": ("",),
    "handler": ("",),
    "instanceIsolationMode": ("", "SHARE"),  # unconfirmed name of "no isolation", the default
    "sessionAffinityConfig": ("",),
}
# What UpdateFunction needs to switch off a field that the canonical form drops
# when unset (UpdateFunction leaves absent fields as they are). Blocks not listed
# are reset with {} (unconfirmed that FC clears them so).
RESETS: dict[str, Any] = {
    "role": "",
    "sessionAffinityConfig": "",
    # fc3 component FC_RESOURCES_EMPTY_CONFIG: what it sends to remove these.
    "vpcConfig": {"vpcId": "", "vSwitchIds": [], "securityGroupId": ""},
    "logConfig": {
        "project": "",
        "logstore": "",
        "enableRequestMetrics": False,
        "enableInstanceMetrics": False,
        "logBeginRule": "None",
    },
    "nasConfig": {"userId": 0, "groupId": 0, "mountPoints": []},
    "ossMountConfig": {"mountPoints": []},
    "tracingConfig": {},
}

# What FC computes and reports, never what a user sets (Function model, read-only).
SERVER_MANAGED = frozenset(
    {
        "functionArn",
        "functionId",
        "createdTime",
        "lastModifiedTime",
        "codeSize",
        "codeChecksum",
        "state",
        "stateReason",
        "stateReasonCode",
        "lastUpdateStatus",
        "lastUpdateStatusReason",
        "lastUpdateStatusReasonCode",
        "invocationImageUri",
        "invocationRestriction",
        "lockInfo",
    }
)
SERVER_MANAGED_PREFIXES = ("lastUpdateStatus",)
# Not server-managed, but not compared as config (see the module docstring).
NOT_COMPARED = frozenset({"code", "functionName", "resourceGroupId"})

BLANK: tuple[Any, ...] = ("", [], {})


@dataclass(frozen=True)
class Block:
    """How one nested object normalizes.

    ``defaults`` are filled when absent; ``neutral`` values are dropped (every
    field of a block also drops when None or blank: "", [], {}); ``blocks`` are
    nested objects, dropped when empty; ``items`` are lists of objects, each
    element normalized with the given spec; ``server`` fields are dropped.

    The block itself is empty (and dropped) when nothing but defaults remain,
    or, if ``empty_unless`` names fields, when none of those is set: a log
    config without a project, or a NAS config without mount points,
    configures nothing whatever its other fields say.
    """

    defaults: Mapping[str, Any] = field(default_factory=dict)
    neutral: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    blocks: Mapping[str, Block] = field(default_factory=dict)
    items: Mapping[str, Block] = field(default_factory=dict)
    server: frozenset[str] = frozenset()
    empty_unless: frozenset[str] = frozenset()


HEALTH_CHECK = Block(
    # API reference (CustomHealthCheckConfig): every default below.
    defaults={
        "initialDelaySeconds": 0,
        "periodSeconds": 3,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
        "successThreshold": 1,
    },
    empty_unless=frozenset({"httpGetUrl"}),
)
LIFECYCLE_HOOK = Block(
    # timeout 3: unconfirmed for 3.0 (FC 2.0 documented initializationTimeout 3).
    # handler and command are exclusive (API reference); either makes a hook.
    defaults={"timeout": 3},
    empty_unless=frozenset({"handler", "command"}),
)
REGISTRY = Block(
    blocks={
        "authConfig": Block(),
        "certConfig": Block(neutral={"insecure": (False,)}),
        "networkConfig": Block(),
    }
)
MOUNTS = frozenset({"mountPoints"})

BLOCKS: dict[str, Block] = {
    "vpcConfig": Block(empty_unless=frozenset({"vpcId", "vSwitchIds", "securityGroupId"})),
    "logConfig": Block(
        defaults={
            "enableRequestMetrics": True,  # API reference (LogConfig): default true
            "enableInstanceMetrics": False,  # API reference (LogConfig): default false
            "logBeginRule": "None",  # API reference (FC 2.0 LogConfig): "None (default)"
        },
        neutral={"enableLlmMetrics": (False,)},  # unconfirmed default
        empty_unless=frozenset({"project", "logstore"}),
    ),
    # userId/groupId: no default; FC's is undocumented and 0 would mean root.
    "nasConfig": Block(
        items={"mountPoints": Block(neutral={"enableTLS": (False,)})}, empty_unless=MOUNTS
    ),
    "ossMountConfig": Block(
        items={"mountPoints": Block(neutral={"readOnly": (False,)})}, empty_unless=MOUNTS
    ),
    "customDNS": Block(items={"dnsOptions": Block()}),
    "tracingConfig": Block(empty_unless=frozenset({"type"})),
    "instanceLifecycleConfig": Block(
        blocks={"initializer": LIFECYCLE_HOOK, "preStop": LIFECYCLE_HOOK}
    ),
    "customRuntimeConfig": Block(
        # port 9000: FC 3.0 docs ("the default port of an HTTP server is port 9000")
        defaults={"port": 9000},
        blocks={"healthCheckConfig": HEALTH_CHECK},
    ),
    "customContainerConfig": Block(
        # port: no default; FC 3.0 documents none, and sending a guess would move
        # the port the container is expected to listen on.
        neutral={"accelerationType": ("Default",)},  # API reference: Default = enabled
        blocks={"healthCheckConfig": HEALTH_CHECK, "registryConfig": REGISTRY},
        server=frozenset({"resolvedImageUri", "accelerationInfo"}),
    ),
    "gpuConfig": Block(neutral={"gpuMemorySize": (0,)}, empty_unless=frozenset({"gpuType"})),
    "juiceFsConfig": Block(items={"mountPoints": Block()}, empty_unless=MOUNTS),
    "polarFsConfig": Block(
        items={"mountPoints": Block(neutral={"readOnly": (False,)})}, empty_unless=MOUNTS
    ),
    "microSandboxConfig": Block(blocks={"registryConfig": REGISTRY}),
}


# --- Public interface ---------------------------------------------------------


def normalize(config: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical, JSON-serializable desired config of ``config`` (see module docstring)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if _dropped(key) or value is None:
            continue
        if key in BLOCKS:
            block = _block(value, BLOCKS[key])
            if block is not None:
                out[key] = block
        elif key == "environmentVariables":
            out[key] = _env(value)
        elif key == "tags":
            out[key] = _tags(value)
        elif key == "layers":
            out[key] = _layers(value)
        elif key == "sessionAffinityConfig":
            text = _json_text(value)
            if text != "":
                out[key] = text
        elif not _is_neutral(value, TOP_NEUTRAL.get(key, ())):
            out[key] = canonical(value)
    for key, default in TOP_DEFAULTS.items():
        out.setdefault(key, copy.deepcopy(default))
    _fill_cpu_memory(out, given=config)
    return _sorted(out)


def is_in_sync(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two configs are the same function config once normalized."""
    return normalize(a) == normalize(b)


def resets(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """Fields to add to an UpdateFunction body built from ``desired`` so that FC drops
    what ``live`` has and ``desired`` lacks (both normalized): UpdateFunction leaves
    absent fields alone, and the canonical form leaves out what is unset.
    """
    out: dict[str, Any] = {}
    for key in live.keys() - desired.keys():
        if key in RESETS:
            out[key] = copy.deepcopy(RESETS[key])
        elif key in BLOCKS:
            out[key] = {}
    return _sorted(out)


def tags_to_wire(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Canonical ``{key: value}`` tags back to FC's ``[{"Key", "Value"}]``."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


# --- Rules --------------------------------------------------------------------


def _dropped(key: str) -> bool:
    return key in SERVER_MANAGED or key in NOT_COMPARED or key.startswith(SERVER_MANAGED_PREFIXES)


def _fill_cpu_memory(out: dict[str, Any], given: Mapping[str, Any]) -> None:
    memory_given = given.get("memorySize") is not None
    cpu = out.get("cpu")
    if cpu is None:
        if _is_number(out["memorySize"]):
            out["cpu"] = _cpu(default_cpu(int(out["memorySize"])))
        return
    if _is_number(cpu):
        out["cpu"] = _cpu(float(cpu))
        if not memory_given:
            out["memorySize"] = default_memory(float(cpu))


def _block(value: Any, spec: Block) -> Any:
    """A nested block, or None when it configures nothing (see Block)."""
    if isinstance(value, Mapping | list) and not value:
        return None
    if not isinstance(value, Mapping):
        return canonical(value)  # a wrong shape stays visible in the diff
    filled = _fill(value, spec)
    empty = _fill({}, spec)
    if spec.empty_unless:
        configures = any(k in filled for k in spec.empty_unless)
    else:
        configures = filled != empty
    return filled if configures else None


def _fill(value: Mapping[str, Any], spec: Block) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in value.items():
        if key in spec.server or _is_neutral(raw, (None, *BLANK, *spec.neutral.get(key, ()))):
            continue
        if key in spec.blocks:
            sub = _block(raw, spec.blocks[key])
            if sub is not None:
                out[key] = sub
        elif key in spec.items and isinstance(raw, list):
            out[key] = [
                _fill(item, spec.items[key]) if isinstance(item, Mapping) else canonical(item)
                for item in raw
            ]
        else:
            out[key] = canonical(raw)
    for key, default in spec.defaults.items():
        out.setdefault(key, copy.deepcopy(default))
    return _sorted(out)


def _is_neutral(value: Any, neutral: tuple[Any, ...]) -> bool:
    # Compared with types: False is neutral where 0 is a value, and the reverse.
    return any(type(value) is type(n) and value == n for n in neutral) or (
        value is None and None in neutral
    )


def _env(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return canonical(value)
    return {str(k): _env_text(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}


def _env_text(value: Any) -> str:
    """An env value as FC stores it: a string (numbers and booleans spelled as in JSON)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(_number(value))
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _tags(value: Any) -> Any:
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        pairs = []
        for tag in value:
            if not isinstance(tag, Mapping):
                return canonical(value)
            key = tag.get("Key", tag.get("key"))
            if key is None:
                return canonical(value)
            pairs.append((str(key), tag.get("Value", tag.get("value"))))
    else:
        return canonical(value)
    return {k: "" if v is None else str(v) for k, v in sorted(pairs)}


def _layers(value: Any) -> Any:
    if not isinstance(value, list):
        return canonical(value)
    arns: list[Any] = []
    for layer in value:
        if isinstance(layer, Mapping) and "arn" in layer:
            arns.append(layer["arn"])  # GetFunction's {arn, size}
        else:
            arns.append(canonical(layer))
    return arns


def _json_text(value: Any) -> Any:
    """A JSON document carried as a string, re-serialized canonically when it parses."""
    if isinstance(value, Mapping | list):  # the document given as itself, not as a string
        return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))
    if not isinstance(value, str):
        return canonical(value)
    if not value.strip():
        return ""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return json.dumps(canonical(parsed), sort_keys=True, separators=(",", ":"))


def canonical(value: Any) -> Any:
    """A deep copy with numbers made canonical and dict keys sorted."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return value


def _number(value: float) -> int | float:
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        return value
    if value.is_integer():
        return int(value)
    rounded = round(value, 9)  # 0.1 + 0.2 and 0.30000000000000004 are one value
    return int(rounded) if rounded.is_integer() else rounded


def _cpu(value: float) -> int | float:
    return _number(round(value, 2))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sorted(value: dict[str, Any]) -> dict[str, Any]:
    return {k: value[k] for k in sorted(value)}
