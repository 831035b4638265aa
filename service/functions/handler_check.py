"""Does the code package hold what the handler names? Checked where the runtime makes it
checkable from the zip's file names alone (no code is read or run).

- Python (``python*``): ``a.b.handler`` needs ``a/b.py`` or ``a/b/__init__.py``.
- Node.js (``nodejs*``): ``index.handler`` needs ``index.js``, ``.mjs`` or ``.cjs``.
- Custom runtimes (``custom``, ``custom.debian10/11/12``): ``bootstrap``, or
  ``customRuntimeConfig.command[0]`` when that is a relative path (``./server``,
  ``bin/app``); a bare name such as ``python3`` is looked up on PATH, not in the zip.

Other runtimes (Java, Go, PHP, .NET, containers) are not checked.
"""

from __future__ import annotations

import io
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HANDLER_MISSING = "handler_missing"
HANDLER_FIELD = "config.handler"
CUSTOM_RUNTIMES = frozenset({"custom", "custom.debian10", "custom.debian11", "custom.debian12"})
NODE_SUFFIXES = (".js", ".mjs", ".cjs")
# What a deploy changes that can break the handler (with the code itself).
HANDLER_FIELDS = ("runtime", "handler", "customRuntimeConfig")

_CACHE_SIZE = 256


@dataclass(frozen=True)
class PlanWarning:
    """Something the plan can see will fail after the deploy, though FC would accept it."""

    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def zip_names(data: bytes) -> frozenset[str]:
    """The paths in a (stored, already checked) zip, from its central directory only;
    directories are implied by their files' paths."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    return frozenset(
        "/".join(p for p in name.split("/") if p not in ("", "."))
        for name in names
        if not name.endswith("/")
    )


class ZipNames:
    """Names per package sha256: a package's bytes never change, so neither do they."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._names: OrderedDict[str, frozenset[str]] = OrderedDict()

    def get(self, sha256: str) -> frozenset[str] | None:
        names = self._names.get(sha256)
        if names is not None:
            self._names.move_to_end(sha256)
        return names

    def put(self, sha256: str, names: frozenset[str]) -> None:
        self._names[sha256] = names
        self._names.move_to_end(sha256)
        while len(self._names) > self.size:
            self._names.popitem(last=False)


ZIP_NAMES = ZipNames()


def _module_of(handler: str) -> str | None:
    module, dot, function = handler.rpartition(".")
    return module if dot and module and function else None


def _expected(state: Mapping[str, Any]) -> tuple[list[str], str] | None:
    """The paths of which one must exist, and what names them; None: not checkable."""
    runtime = str(state.get("runtime") or "")
    handler = str(state.get("handler") or "")
    if runtime.startswith("python"):
        module = _module_of(handler)
        if module is None:
            return None
        path = module.replace(".", "/")
        return [f"{path}.py", f"{path}/__init__.py"], f"handler {handler!r}"
    if runtime.startswith("nodejs"):
        module = _module_of(handler)
        if module is None:
            return None
        return [module + suffix for suffix in NODE_SUFFIXES], f"handler {handler!r}"
    if runtime in CUSTOM_RUNTIMES:
        command = (state.get("customRuntimeConfig") or {}).get("command") or []
        if not command:
            return ["bootstrap"], f"runtime {runtime!r} without customRuntimeConfig.command"
        first = str(command[0])
        if "/" not in first or first.startswith("/"):
            return None  # on PATH, or an absolute path outside /code
        relative = "/".join(p for p in first.split("/") if p not in ("", "."))
        return [relative], f"customRuntimeConfig.command[0] {first!r}"
    return None


def handler_warnings(state: Mapping[str, Any], names: frozenset[str]) -> list[PlanWarning]:
    """A warning when the code package lacks the file the handler (or command) names."""
    expected = _expected(state)
    if expected is None:
        return []
    paths, what = expected
    if any(path in names for path in paths):
        return []
    wanted = " or ".join(paths)
    message = (
        f"{what} needs {wanted} at the code package's root, and the package has none; "
        "the first invocation would fail (deploy with allow_missing_handler to deploy anyway)"
    )
    return [PlanWarning(HANDLER_MISSING, HANDLER_FIELD, message)]


def handler_may_change(
    base: Mapping[str, Any], local: Mapping[str, Any], code_changed: bool
) -> bool:
    """Whether a deploy from ``base`` to ``local`` can break the handler: a deploy that
    touches neither the code nor the handler's fields leaves it as it was."""
    return code_changed or any(base.get(k) != local.get(k) for k in HANDLER_FIELDS)
