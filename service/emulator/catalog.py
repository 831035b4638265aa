"""Reading FC resources back: wire shapes, qualifier resolution and FunctionSpec snapshots."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.emulator.context import Emulator
from service.emulator.credentials import role_credentials
from service.emulator.errors import FCError, function_not_found, invalid, not_found
from service.emulator.runtime.contract import CustomRuntime, FunctionSpec
from service.emulator.runtime.fc_errors import RUNTIME_NOT_SUPPORTED, unsupported_reason
from service.emulator.store import Doc

FUNCTION = "function"
VERSION = "version"
ALIAS = "alias"
TRIGGER = "trigger"
LAYER = "layer"
PROVISION = "provision"
CONCURRENCY = "concurrency"
ASYNC_CONFIG = "async_config"
ASYNC_TASK = "async_task"

_last_ms = [0]
_stamp_lock = threading.Lock()


def now_iso() -> str:
    """UTC, millisecond precision, strictly increasing so lastModifiedTime always moves."""
    with _stamp_lock:
        ms = max(time.time_ns() // 1_000_000, _last_ms[0] + 1)
        _last_ms[0] = ms
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def version_key(version_id: int | str) -> str:
    return f"{int(version_id):010d}"


def get_function(emu: Emulator, name: str) -> Doc:
    record = emu.store.get(FUNCTION, "", name)
    if record is None:
        raise function_not_found(name)
    return record


def get_version(emu: Emulator, name: str, version_id: str) -> Doc:
    record = emu.store.get(VERSION, name, version_key(version_id)) if version_id.isdigit() else None
    if record is None:
        raise not_found(
            "VersionNotFound", f"version '{version_id}' of function '{name}' does not exist."
        )
    return record


def get_alias(emu: Emulator, name: str, alias: str) -> Doc:
    record = emu.store.get(ALIAS, name, alias)
    if record is None:
        raise not_found("AliasNotFound", f"alias '{alias}' of function '{name}' does not exist.")
    return record


def layer_size(emu: Emulator, arn: str) -> int:
    layer = find_layer_by_arn(emu, arn)
    return int(layer["codeSize"]) if layer else 0


def find_layer_by_arn(emu: Emulator, arn: str) -> Doc | None:
    try:
        head, version = arn.rsplit("/versions/", 1)
        name = head.rsplit("layers/", 1)[1]
    except (ValueError, IndexError):
        return None
    if not version.isdigit():
        return None
    return emu.store.get(LAYER, name, version_key(version))


def render_function(emu: Emulator, name: str, record: Doc) -> dict[str, Any]:
    out: dict[str, Any] = dict(record["config"])
    out["layers"] = [{"arn": arn, "size": layer_size(emu, arn)} for arn in out.get("layers", [])]
    code = record.get("code")
    # Created as FC would, but a runtime the emulator cannot run says so here
    # already, not only when the first invocation fails.
    reason = unsupported_reason(str(out.get("runtime", "")))
    out.update(
        functionName=name,
        functionArn=emu.function_arn(name),
        functionId=record["functionId"],
        codeChecksum=code["checksum"] if code else "",
        codeSize=code["size"] if code else 0,
        createdTime=record["createdTime"],
        lastModifiedTime=record["lastModifiedTime"],
        state="Failed" if reason else "Active",
        stateReason=reason or "",
        stateReasonCode=RUNTIME_NOT_SUPPORTED if reason else "",
        lastUpdateStatus="Successful",
        lastUpdateStatusReason=reason or "",
        lastUpdateStatusReasonCode=RUNTIME_NOT_SUPPORTED if reason else "",
    )
    out.setdefault("tags", [])
    return out


class Resolved:
    """A function at one qualifier: its frozen record and the version that will serve."""

    def __init__(self, name: str, qualifier: str, record: Doc, version_id: str | None) -> None:
        self.name = name
        self.qualifier = qualifier
        self.record = record
        self.version_id = version_id

    @property
    def served_as(self) -> str:
        return self.version_id or "LATEST"


def resolve(emu: Emulator, name: str, qualifier: str | None, *, pick: bool = True) -> Resolved:
    """LATEST, a version id or an alias (a weighted pick among its versions if ``pick``)."""
    qualifier = qualifier or "LATEST"
    if qualifier == "LATEST":
        return Resolved(name, qualifier, get_function(emu, name), None)
    get_function(emu, name)
    if qualifier.isdigit():
        version = get_version(emu, name, qualifier)
        return Resolved(name, qualifier, version["function"], version["versionId"])
    alias = emu.store.get(ALIAS, name, qualifier)
    if alias is None:
        raise not_found(
            "AliasNotFound", f"qualifier '{qualifier}' of function '{name}' does not exist."
        )
    version_id = str(alias["versionId"])
    if pick:
        roll = random.random()
        for other, weight in (alias.get("additionalVersionWeight") or {}).items():
            if roll < weight:
                version_id = str(other)
                break
            roll -= weight
    version = get_version(emu, name, version_id)
    return Resolved(name, qualifier, version["function"], version_id)


def build_spec(emu: Emulator, target: Resolved) -> FunctionSpec:
    cfg = target.record["config"]
    code = target.record.get("code")
    code_zip = emu.store.blobs.path(code["sha256"]) if code else empty_zip(emu)
    layer_zips = []
    for arn in cfg.get("layers", []):
        layer = find_layer_by_arn(emu, arn)
        if layer is None:
            raise invalid(f"layer {arn} no longer exists")
        layer_zips.append(emu.store.blobs.path(layer["_sha256"]))
    custom = None
    crc = cfg.get("customRuntimeConfig")
    if crc:
        custom = CustomRuntime(
            command=list(crc.get("command") or []),
            args=list(crc.get("args") or []),
            port=int(crc.get("port") or 9000),
            health_check_url=(crc.get("healthCheckConfig") or {}).get("httpGetUrl"),
        )
    hooks = cfg.get("instanceLifecycleConfig") or {}
    init = hooks.get("initializer") or {}
    pre_stop = hooks.get("preStop") or {}
    reserved = emu.store.get(CONCURRENCY, "", target.name)
    role = cfg.get("role") or ""
    return FunctionSpec(
        name=target.name,
        qualifier=target.qualifier,
        version_id=target.version_id,
        runtime=cfg["runtime"],
        handler=cfg["handler"],
        timeout_s=int(cfg["timeout"]),
        memory_mb=int(cfg["memorySize"]),
        cpu=float(cfg["cpu"]),
        disk_mb=int(cfg["diskSize"]),
        instance_concurrency=int(cfg["instanceConcurrency"]),
        environment=dict(cfg.get("environmentVariables") or {}),
        code_zip=code_zip,
        code_checksum=code["checksum"] if code else "0",
        layer_zips=tuple(layer_zips),
        custom_runtime=custom,
        initializer=init.get("handler") or None,
        initializer_timeout_s=int(init.get("timeout") or 3),
        pre_stop=pre_stop.get("handler") or None,
        pre_stop_timeout_s=int(pre_stop.get("timeout") or 3),
        region=emu.settings.region,
        account_id=emu.settings.account_id,
        reserved_concurrency=None if reserved is None else int(reserved["reservedConcurrency"]),
        internet_access=bool(cfg.get("internetAccess", True)),
        credentials=role_credentials(emu.settings.access_keys, target.name, role) if role else None,
    )


def empty_zip(emu: Emulator) -> Path:
    """An empty archive for functions without code (custom-container)."""
    meta = emu.store.blobs.add(b"PK\x05\x06" + b"\x00" * 18)
    return emu.store.blobs.path(meta["sha256"])


def require_qualifier_exists(emu: Emulator, name: str, qualifier: str) -> None:
    try:
        resolve(emu, name, qualifier, pick=False)
    except FCError as exc:
        if exc.code == "FunctionNotFound":
            raise
        raise invalid(f"qualifier '{qualifier}' of function '{name}' does not exist") from None
