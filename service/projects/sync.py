"""Sync: a live function as an fc3 s.yaml plus its code, the layout ``s sync`` writes.

``s sync`` (fc3's ``src/subCommands/sync``) writes ``<region>_<functionName>.yaml``
and the code extracted into ``<region>_<functionName>/`` (the first ``$`` in the
name made ``_``). Here both go into one zip, built from what FC runs, so it works
for any function of an account, managed by fcplane or not.

Where this differs from fc3, on purpose:

- ``code`` is the RELATIVE ``./<region>_<functionName>``, not fc3's absolute path,
  so the unzipped folder deploys from wherever it lands;
- read-only fields (functionArn, codeChecksum, state, ...) are left out, where
  fc3 writes them and its deploy strips them again; so are values that only
  say "unset" (a blank description, ``disableOndemand: false``, ...);
- ``role`` is written as FC reports it (fc3 lower-cases it, which a later plan
  would show as a change);
- every sub-resource fcplane manages is written (triggers, async-invoke,
  provision and concurrency configs, the custom-domain route), each in its
  props shape, so the props deploy back to what runs: a plan of them shows no
  change.

The code package comes from FC but is extracted as an untrusted upload would be:
checked by ``inspect_zip`` first, each entry kept inside its folder, modes kept.
"""

from __future__ import annotations

import asyncio
import io
import stat
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from service.accounts.service import AccountService, access_for
from service.cloud.access import FcAccess
from service.cloud.code import download_code
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions.codezip import (
    CodePackageTooLarge,
    InvalidCodePackage,
    ZipLimits,
    inspect_zip,
)
from service.functions.live import LiveReader
from service.functions.normalize import SERVER_MANAGED, TOP_DEFAULTS, tags_to_wire
from service.functions.state import props_of
from service.functions.subresources import SUBRESOURCES, TRIGGERS
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import Conflict

EDITION = "3.0.0"
COMPONENT = "fc3"
PROJECT_YAML = "s.yaml"
# Runtimes whose code is an image: GetFunctionCode has nothing to give.
IMAGE_RUNTIMES = frozenset({"custom-container", "micro-sandbox"})
# Fields FC reports that no deploy takes (normalize drops the rest of them):
# fc3's own strip list for a remote function.
READ_ONLY = SERVER_MANAGED | {"useSLRAuthentication"}
# Written even at FC's default: the function's size and limits are worth reading.
ALWAYS_WRITTEN = frozenset(
    {"cpu", "memorySize", "diskSize", "timeout", "instanceConcurrency", "internetAccess"}
)
# The function's own keys first, in the order a reader looks for them; others follow,
# sorted, then the sub-resources.
FIRST = (
    "functionName", "description", "runtime", "handler", "code", "cpu", "memorySize",
    "diskSize", "timeout", "instanceConcurrency", "internetAccess", "role",
    "environmentVariables", "layers",
)  # fmt: skip
TRIGGER_ORDER = (
    "triggerName", "triggerType", "description", "qualifier", "invocationRole", "sourceArn",
    "triggerConfig",
)  # fmt: skip
DateTime = tuple[int, int, int, int, int, int]
_EPOCH_1980: DateTime = (1980, 1, 1, 0, 0, 0)


class UnsafeCodePackage(Conflict):
    """FC holds a code package that cannot be extracted safely (a hostile or broken zip)."""

    code, title = "unsafe_code_package", "Code package cannot be extracted safely"


@dataclass(frozen=True)
class SyncedFunction:
    """One function as a sync writes it: its fc3 props and its code zip (None: an image)."""

    name: str
    region: str
    props: dict[str, Any]
    code: bytes | None


@dataclass(frozen=True)
class SyncArchive:
    filename: str
    data: bytes


def local_name(region: str, name: str) -> str:
    """``<region>_<functionName>``, fc3's name for the yaml and the code folder."""
    return f"{region}_{name.replace('$', '_', 1)}"


def has_code(state: Mapping[str, Any]) -> bool:
    return state.get("runtime") not in IMAGE_RUNTIMES


# --- props --------------------------------------------------------------------


def function_props(
    state: Mapping[str, Any], region: str, name: str | None = None
) -> dict[str, Any]:
    """A live state (service/functions/state.py) as fc3 props, ``region`` first.

    ``name``: the function's name (a state leaves it out, as the function's
    identity); defaults to the state's ``functionName``. ``code`` is the relative
    ``./<region>_<functionName>`` (fc3 writes an absolute path; a relative one
    keeps the synced folder portable), absent for image runtimes.
    """
    name = name or state.get("functionName")
    if not name:
        raise ValueError("function_props needs the function's name")
    props = props_of(state)
    function = {
        k: v
        for k, v in props.items()
        if k not in SUBRESOURCES and k not in READ_ONLY and _written(k, v)
    }
    if isinstance(function.get("tags"), Mapping):
        function["tags"] = tags_to_wire(function["tags"])  # fc3's [{Key, Value}]
    function["functionName"] = str(name)
    if has_code(state):
        function["code"] = f"./{local_name(region, str(name))}"
    out: dict[str, Any] = {"region": region}
    out.update((k, function.pop(k)) for k in FIRST if k in function)
    out.update(sorted(function.items()))
    for key in SUBRESOURCES:
        value = props.get(key)
        if key == TRIGGERS and value:
            out[key] = [_trigger_props(t) for t in value]
        elif value:
            out[key] = value
    return out


_NO_DEFAULT = object()


def _written(key: str, value: Any) -> bool:
    """Whether a function field is worth a line: not blank, and not a switch left at its
    off value (what normalize fills in comes back by itself on a deploy)."""
    if value is None or value in ("", [], {}):
        return False
    default = TOP_DEFAULTS.get(key, _NO_DEFAULT)
    at_default = type(value) is type(default) and value == default
    return key in ALWAYS_WRITTEN or not at_default


def _trigger_props(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """fc3's trigger shape: blank fields left out, triggerConfig an object."""
    kept = {k: v for k, v in trigger.items() if v not in (None, "")}
    ordered = {k: kept.pop(k) for k in TRIGGER_ORDER if k in kept}
    return {**ordered, **dict(sorted(kept.items()))}


# --- the yaml -----------------------------------------------------------------


def function_document(
    project: str, access: str, resources: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """An s.yaml document: one fc3 resource per ``{resource name: props}``."""
    return {
        "edition": EDITION,
        "name": project,
        "access": access,
        "resources": {
            key: {"component": COMPONENT, "props": props} for key, props in resources.items()
        },
    }


def syaml_text(document: dict[str, Any]) -> str:
    return yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


# --- the zip ------------------------------------------------------------------


def sync_zip(
    entries: list[SyncedFunction],
    yaml_name: str | None = None,
    *,
    project: str | None = None,
    access: str = "default",
) -> bytes:
    """The zip ``s sync`` would leave behind (CPU work: run it off the event loop).

    One function: ``<region>_<fn>.yaml`` and its code in ``<region>_<fn>/``.
    Several: one ``s.yaml`` with every resource, and each function's code folder
    (a name or folder met twice, as in two accounts of one region, gets a
    ``_2`` suffix). ``yaml_name``: the yaml's file name instead; ``project``:
    the yaml's ``name`` (default: the function's name, or the yaml's stem);
    ``access``: the yaml's ``access``.
    """
    if not entries:
        raise ValueError("sync_zip needs at least one function")
    single = entries[0] if len(entries) == 1 else None
    if yaml_name is None:
        yaml_name = f"{local_name(single.region, single.name)}.yaml" if single else PROJECT_YAML
    if project is None:
        project = single.name if single else PurePosixPath(yaml_name).stem
    resources: dict[str, dict[str, Any]] = {}
    keys: set[str] = set()
    folders: set[str] = set()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            props = dict(entry.props)
            if entry.code is not None:
                folder = _unique(local_name(entry.region, entry.name), folders)
                props["code"] = f"./{folder}"
                _extract(archive, folder, entry)
            key = entry.name if entry.name not in keys else local_name(entry.region, entry.name)
            resources[_unique(key, keys)] = props
        text = syaml_text(function_document(project, access, resources))
        archive.writestr(_file_info(yaml_name, _now(), 0o644), text.encode())
    return buffer.getvalue()


def _unique(name: str, taken: set[str]) -> str:
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}_{n}"
    taken.add(found)
    return found


def _extract(out: zipfile.ZipFile, folder: str, entry: SyncedFunction) -> None:
    """``entry``'s code zip re-packed under ``folder/``: checked first, as an upload is."""
    assert entry.code is not None
    try:
        inspect_zip(entry.code, ZipLimits())
    except (InvalidCodePackage, CodePackageTooLarge) as exc:
        raise UnsafeCodePackage(
            f"the code of function '{entry.name}' in FC cannot be extracted safely: {exc.detail}",
            function=entry.name,
        ) from None
    out.writestr(_dir_info(f"{folder}/", _EPOCH_1980), b"")
    with zipfile.ZipFile(io.BytesIO(entry.code)) as code:
        for info in code.infolist():
            path = f"{folder}/{_inside(info.orig_filename)}"
            if _is_dir(info):
                out.writestr(_dir_info(f"{path}/", info.date_time, info.external_attr), b"")
                continue
            target = zipfile.ZipInfo(path, info.date_time)
            target.create_system = info.create_system
            target.external_attr = info.external_attr
            target.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(target, code.read(info))


def _inside(name: str) -> str:
    """An entry's path, relative and without ``.`` parts; never one that climbs out
    (inspect_zip refuses those already; this is the extractor's own guard)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or name.startswith("/") or "\\" in name:
        raise UnsafeCodePackage(f"code entry {name!r} would be written outside its folder")
    return "/".join(parts)


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.is_dir() or (info.create_system == 3 and stat.S_ISDIR(info.external_attr >> 16))


def _now() -> DateTime:
    now = time.gmtime()
    return (now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec)


def _file_info(name: str, when: DateTime, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when)
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _dir_info(name: str, when: DateTime, attr: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, when)
    info.create_system = 3
    info.external_attr = attr if attr else ((stat.S_IFDIR | 0o755) << 16) | 0x10
    return info


# --- reading FC -----------------------------------------------------------------


async def read_function(
    gateway: FcGateway, access: FcAccess, name: str, region: str
) -> SyncedFunction:
    """The function as FC runs it (config, sub-resources, code) ready for ``sync_zip``."""
    live = await LiveReader(gateway).read(access, name)
    if live is None:
        raise FcNotFound(
            f"function '{name}' does not exist in FC (account '{access.alias}', {region})",
            account=access.alias,
            function=name,
        )
    limit = ZipLimits().max_compressed_bytes
    code = await download_code(gateway, access, name, limit) if has_code(live.state) else None
    return SyncedFunction(name, region, function_props(live.state, region, name), code)


# --- the use case -----------------------------------------------------------------


class SyncService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway

    async def function_archive(
        self, alias: str, name: str, project: str | None = None, access: str | None = None
    ) -> SyncArchive:
        """One function of the account ``alias`` as a sync zip; the account is read in
        its own short block, closed before FC is called."""
        account = await AccountService(self.db, self.box).get(alias)
        synced = await read_function(
            self.gateway, access_for(self.box, account), name, account.region
        )
        data = await asyncio.to_thread(
            sync_zip, [synced], project=project or name, access=access or alias
        )
        return SyncArchive(f"{local_name(account.region, name)}.zip", data)
