"""One Funcraft function's ``Properties`` as fc3 function props."""

from __future__ import annotations

import json
import re
from typing import Any

from service.projects.fun2s.context import ACCOUNT, REGION, Context, Path

CONTAINER = "custom-container"
# Runtimes fc3 accepts but whose language version is end-of-life upstream.
_END_OF_LIFE = {"nodejs8", "nodejs10", "nodejs12", "python2.7", "dotnetcore2.1", "php7.2"}
_NOT_IN_FC3 = {"nodejs6"}
_SIMPLE = {"Handler": "handler", "Description": "description"}
_NUMBERS = {"Timeout": "timeout", "MemorySize": "memorySize"}
_FC2_FUNCTION_ARN = re.compile(
    r"^acs:fc:(?P<region>[^:]*):(?P<account>[^:]*):services/(?P<service>[^/.]+)"
    r"(?:\.(?P<qualifier>[^/]+))?/functions/(?P<function>[^/]+)/?$"
)
_MNS_ARN = re.compile(r"^acs:mns:(?P<region>[^:]*):(?P<rest>.*)$")
_FC2_LAYER = re.compile(r"^[0-9a-f]+#(?P<name>[^#]+)#(?P<version>\d+)$")


def is_custom(runtime: str | None) -> bool:
    # custom, custom.debian10/11/12 and custom-container
    return runtime is not None and runtime.startswith("custom")


def convert_function(
    ctx: Context, service: str, name: str, resource: dict[str, Any], path: Path
) -> dict[str, Any]:
    for key in resource:
        if key not in ("Type", "Properties", "Events"):
            ctx.drop((*path, key), "not part of a Funcraft function")
    here = (*path, "Properties")
    properties = ctx.mapping(here, resource.get("Properties") or {}) or {}
    runtime = ctx.text((*here, "Runtime"), properties.get("Runtime"))
    out: dict[str, Any] = {"functionName": f"{service}${name}"}
    if runtime is not None:
        out["runtime"] = runtime
        _check_runtime(ctx, (*here, "Runtime"), runtime)
    lifecycle: dict[str, Any] = {}
    for key, value in properties.items():
        at = (*here, key)
        if key == "Runtime":
            continue
        if key in _SIMPLE:
            _put(out, _SIMPLE[key], ctx.text(at, value))
        elif key in _NUMBERS:
            _put(out, _NUMBERS[key], ctx.integer(at, value))
        elif key == "CodeUri":
            _code(ctx, at, value, runtime, out)
        elif key == "EnvironmentVariables":
            _put(out, "environmentVariables", _environment(ctx, at, value))
        elif key == "InstanceType":
            _instance_type(ctx, at, value)
        elif key == "InstanceConcurrency":
            _concurrency(ctx, at, value, runtime, out)
        elif key in ("Initializer", "InitializationTimeout", "InstanceLifecycleConfig"):
            _lifecycle(ctx, at, key, value, lifecycle)
        elif key == "AsyncConfiguration":
            _put(out, "asyncInvokeConfig", _async_config(ctx, at, value))
        elif key == "Layers":
            _put(out, "layers", _layers(ctx, at, value))
        elif key == "CAPort":
            _port(ctx, at, value, runtime, out)
        elif key == "CustomContainerConfig":
            _container(ctx, at, value, out)
        else:
            ctx.drop(at, "not a Funcraft function property")
    _finish_lifecycle(ctx, here, lifecycle, out)
    _check_required(ctx, here, runtime, out)
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _check_runtime(ctx: Context, path: Path, runtime: str) -> None:
    if runtime in _NOT_IN_FC3:
        ctx.warn(path, f"{runtime} is not an FC 3.0 runtime: pick a current one before deploying")
    elif runtime in _END_OF_LIFE:
        ctx.warn(path, f"{runtime} is end-of-life upstream; kept, but plan a move off it")


def _check_required(ctx: Context, path: Path, runtime: str | None, out: dict[str, Any]) -> None:
    if runtime is None:
        ctx.warn(path, "no Runtime: fc3 requires one")
    elif runtime != CONTAINER and "code" not in out:
        ctx.warn(path, "no CodeUri: fc3 requires code for this runtime")
    if runtime is not None and not is_custom(runtime) and "handler" not in out:
        ctx.warn(path, "no Handler: fc3 requires one for this runtime")
    memory = out.get("memorySize")
    if memory is not None and (memory % 64 or not 128 <= memory <= 32768):
        ctx.warn(path, f"MemorySize {memory}: FC 3.0 wants a multiple of 64 in 128..32768 MB")


def _code(ctx: Context, path: Path, value: Any, runtime: str | None, out: dict[str, Any]) -> None:
    uri = ctx.text(path, value)
    if uri is None:
        return
    if runtime == CONTAINER:
        ctx.drop(path, "a custom-container function has no code package; its image is the code")
        return
    if uri.startswith("oss://"):
        bucket, _, key = uri.removeprefix("oss://").partition("/")
        if not bucket or not key:
            ctx.drop(path, f"{uri}: an OSS code location needs oss://<bucket>/<object>")
            return
        out["code"] = {"ossBucketName": bucket, "ossObjectName": key}
    else:
        out["code"] = uri


def _environment(ctx: Context, path: Path, value: Any) -> dict[str, str] | None:
    variables = ctx.mapping(path, value)
    if variables is None:
        return None
    out: dict[str, str] = {}
    for key, item in variables.items():
        at = (*path, str(key))
        if isinstance(item, str):
            out[str(key)] = item
        elif isinstance(item, dict | list):
            ctx.drop(at, "an environment variable holds a string, not a structure")
        else:
            text = (
                "" if item is None else str(item).lower() if isinstance(item, bool) else str(item)
            )
            out[str(key)] = text
            ctx.warn(at, f"FC 3.0 takes string values: {item!r} is written as {text!r}")
    return out


def _instance_type(ctx: Context, path: Path, value: Any) -> None:
    if value == "e1":
        ctx.warn(path, "e1 is FC 3.0's only (elastic) instance kind: nothing to set")
    else:
        ctx.drop(
            path, f"{value!r}: FC 3.0 has no instance types; size it with cpu/memorySize/diskSize"
        )


def _concurrency(
    ctx: Context, path: Path, value: Any, runtime: str | None, out: dict[str, Any]
) -> None:
    count = ctx.integer(path, value)
    if count is None:
        return
    if is_custom(runtime):
        out["instanceConcurrency"] = count
    elif count != 1:
        ctx.drop(
            path,
            f"FC 3.0 runs one request per instance for {runtime}: only custom runtimes take it",
        )


def _lifecycle(ctx: Context, path: Path, key: str, value: Any, acc: dict[str, Any]) -> None:
    if key == "Initializer":
        _put(acc, "initializer", ctx.text(path, value))
    elif key == "InitializationTimeout":
        _put(acc, "initializationTimeout", ctx.integer(path, value))
    else:
        config = ctx.mapping(path, value) or {}
        for hook, hook_value in config.items():
            at = (*path, hook)
            if hook == "PreStop":
                _put(acc, "preStop", _hook(ctx, at, hook_value))
            elif hook == "PreFreeze":
                ctx.drop(
                    at,
                    "FC 3.0 lifecycle hooks are initializer and preStop: no PreFreeze",
                )
            else:
                ctx.drop(at, "not a Funcraft lifecycle hook")


def _hook(ctx: Context, path: Path, value: Any) -> dict[str, Any] | None:
    config = ctx.mapping(path, value)
    if config is None:
        return None
    hook: dict[str, Any] = {}
    for key, item in config.items():
        if key == "Handler":
            _put(hook, "handler", ctx.text((*path, key), item))
        elif key == "Timeout":
            _put(hook, "timeout", ctx.integer((*path, key), item))
        else:
            ctx.drop((*path, key), "not a lifecycle hook property")
    return hook or None


def _finish_lifecycle(ctx: Context, path: Path, acc: dict[str, Any], out: dict[str, Any]) -> None:
    config: dict[str, Any] = {}
    if "initializer" in acc:
        config["initializer"] = {"handler": acc["initializer"]}
        if "initializationTimeout" in acc:
            config["initializer"]["timeout"] = acc["initializationTimeout"]
    elif "initializationTimeout" in acc:
        ctx.drop((*path, "InitializationTimeout"), "no Initializer for it to time")
    if "preStop" in acc:
        config["preStop"] = acc["preStop"]
    if config:
        out["instanceLifecycleConfig"] = config


def _async_config(ctx: Context, path: Path, value: Any) -> dict[str, Any] | None:
    config = ctx.mapping(path, value)
    if config is None:
        return None
    out: dict[str, Any] = {}
    for key, item in config.items():
        at = (*path, key)
        if key == "Destination":
            _put(out, "destinationConfig", _destinations(ctx, at, item))
        elif key == "MaxAsyncEventAgeInSeconds":
            _put(out, "maxAsyncEventAgeInSeconds", ctx.integer(at, item))
        elif key == "MaxAsyncRetryAttempts":
            _put(out, "maxAsyncRetryAttempts", ctx.integer(at, item))
        elif key == "StatefulInvocation":
            flag = ctx.boolean(at, item)
            if flag is not None:
                out["asyncTask"] = flag
                ctx.warn(at, "written as asyncTask, FC 3.0's successor of stateful invocation")
        else:
            ctx.drop(at, "not a Funcraft AsyncConfiguration property")
    return out or None


def _destinations(ctx: Context, path: Path, value: Any) -> dict[str, Any] | None:
    config = ctx.mapping(path, value)
    if config is None:
        return None
    out: dict[str, Any] = {}
    for key, item in config.items():
        at = (*path, key)
        target = {"onsuccess": "onSuccess", "onfailure": "onFailure"}.get(str(key).lower())
        arn = ctx.text(at, item)
        if target is None:
            ctx.drop(at, "a destination is OnSuccess or OnFailure")
        elif arn is not None:
            out[target] = {"destination": destination_arn(ctx, at, arn)}
    return out or None


def destination_arn(ctx: Context, path: Path, arn: str) -> str:
    """An FC 2.0 destination ARN in FC 3.0 form (functions are ``<service>$<function>``)."""
    found = _FC2_FUNCTION_ARN.match(arn)
    if found:
        region = found["region"] or REGION
        name = f"{found['service']}${found['function']}"
        if found["qualifier"]:
            ctx.warn(
                path,
                f"FC 3.0 destinations name no version: qualifier {found['qualifier']!r} dropped",
            )
        return f"acs:fc:{region}:{found['account']}:functions/{name}"
    mns = _MNS_ARN.match(arn)
    if mns and not mns["region"]:
        return f"acs:mns:{REGION}:{mns['rest']}"
    return arn


def _layers(ctx: Context, path: Path, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        ctx.drop(path, "expected a list of layer ARNs")
        return None
    layers: list[str] = []
    for i, item in enumerate(value):
        at = (*path, str(i))
        text = ctx.text(at, item)
        if text is None:
            continue
        old = _FC2_LAYER.match(text)
        if old:
            text = f"acs:fc:{REGION}:{ACCOUNT}:layers/{old['name']}/versions/{old['version']}"
            ctx.warn(at, f"FC 2.0 layer id rewritten as {text} (assumes a layer of this account)")
        layers.append(text)
    return layers


def _port(ctx: Context, path: Path, value: Any, runtime: str | None, out: dict[str, Any]) -> None:
    port = ctx.integer(path, value)
    if port is None:
        return
    if runtime == CONTAINER:
        out.setdefault("customContainerConfig", {})["port"] = port
    elif is_custom(runtime):
        out.setdefault("customRuntimeConfig", {})["port"] = port
    else:
        ctx.drop(path, f"CAPort applies to custom runtimes only, not {runtime}")


def _container(ctx: Context, path: Path, value: Any, out: dict[str, Any]) -> None:
    config = ctx.mapping(path, value)
    if config is None:
        return
    target: dict[str, Any] = out.setdefault("customContainerConfig", {})
    for key, item in config.items():
        at = (*path, key)
        if key == "Image":
            _put(target, "image", ctx.text(at, item))
        elif key in ("Command", "Args"):
            _put(target, "entrypoint" if key == "Command" else "command", _argv(ctx, at, item))
        else:
            ctx.drop(at, "no fc3 customContainerConfig field for it (s2tos3 drops it too)")


def _argv(ctx: Context, path: Path, value: Any) -> list[str] | None:
    # Funcraft passes Command/Args as JSON-encoded arrays in a string.
    try:
        argv = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        argv = None
    if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
        return argv
    ctx.drop(path, f"expected a JSON array of strings, found {value!r}")
    return None
