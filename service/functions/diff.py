"""Field-level differences between function states, as JSON pointers and RFC 6902 patches.

A *state* is a normalized config plus the code checksum under ``code``, so a
code change is the path ``/code``. Lists are compared as whole values: layer
order is meaningful to FC, and element-wise diffs of arrays read badly.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from service.functions.subresources import SUBRESOURCES, TRIGGERS


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    path: str
    base: Any
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "base": None if self.base is MISSING else self.base,
            "value": None if self.value is MISSING else self.value,
        }

    def as_patch(self) -> dict[str, Any]:
        if self.value is MISSING:
            return {"op": "remove", "path": self.path}
        op = "add" if self.base is MISSING else "replace"
        return {"op": op, "path": self.path, "value": self.value}


@dataclass(frozen=True)
class Conflict:
    path: str
    base: Any
    local: Any
    remote: Any

    def as_dict(self) -> dict[str, Any]:
        def shown(v: Any) -> Any:
            return None if v is MISSING else v

        return {
            "path": self.path,
            "base": shown(self.base),
            "local": shown(self.local),
            "remote": shown(self.remote),
        }


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def changes(base: Any, other: Any, path: str = "") -> list[Change]:
    """Every leaf where ``other`` differs from ``base``, in a stable order."""
    if isinstance(base, dict) and isinstance(other, dict):
        found: list[Change] = []
        for key in sorted(set(base) | set(other)):
            found += changes(
                base.get(key, MISSING), other.get(key, MISSING), f"{path}/{_escape(str(key))}"
            )
        return found
    if base is MISSING and isinstance(other, dict) and not other:
        return []
    return [] if base == other else [Change(path or "/", base, other)]


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def conflicts(local: list[Change], remote: list[Change]) -> list[Conflict]:
    """Paths both sides changed, to different values."""
    found = []
    for mine in local:
        for theirs in remote:
            if _overlaps(mine.path, theirs.path) and not (
                mine.path == theirs.path and mine.value == theirs.value
            ):
                found.append(Conflict(mine.path, mine.base, mine.value, theirs.value))
    return found


def apply(state: dict[str, Any], to_apply: list[Change]) -> dict[str, Any]:
    """A copy of ``state`` with the changes applied (the new values win)."""
    result = copy.deepcopy(state)
    for change in to_apply:
        tokens = [_unescape(t) for t in change.path.lstrip("/").split("/")]
        target = result
        for token in tokens[:-1]:
            child = target.get(token)
            if not isinstance(child, dict):
                child = target[token] = {}
            target = child
        if change.value is MISSING:
            target.pop(tokens[-1], None)
        else:
            target[tokens[-1]] = copy.deepcopy(change.value)
    return result


def value_at(state: Any, path: str) -> Any:
    """The value at a JSON pointer of ``changes``' paths, or MISSING."""
    value = state
    for token in path.lstrip("/").split("/") if path not in ("", "/") else []:
        if not isinstance(value, dict):
            return MISSING
        value = value.get(_unescape(token), MISSING)
        if value is MISSING:
            return MISSING
    return value


def not_in(state: dict[str, Any], wanted: list[Change]) -> list[Change]:
    """The changes ``state`` does not hold (their path has another value there)."""
    return [c for c in wanted if value_at(state, c.path) != c.value]


# Sub-resources a change adds or removes as a whole, named by their key. Triggers
# are always present (as a map); a trigger is added or removed on its own path.
_WHOLE = frozenset(SUBRESOURCES) - {TRIGGERS}


def _whole(path: str) -> str | None:
    """``trigger http_t`` for ``/triggers/http_t``, ``asyncInvokeConfig`` for its path."""
    tokens = [_unescape(t) for t in path.lstrip("/").split("/")]
    if len(tokens) == 2 and tokens[0] == TRIGGERS:
        return f"trigger {tokens[1]}"
    if len(tokens) == 1 and tokens[0] in _WHOLE:
        return tokens[0]
    return None


def render(local: list[Change], remote: list[Change] | None = None) -> str:
    """Terraform-like text: ``~ memorySize: 512 => 1024``, ``- trigger t (will be deleted)``."""

    def line(change: Change, side: str) -> str:
        field = change.path.lstrip("/").replace("/", ".")
        suffix = f"   ({side})" if side else ""
        whole = _whole(change.path)
        if whole is not None and (change.base is MISSING or change.value is MISSING):
            if side == "remote":
                verb = "added" if change.base is MISSING else "removed"
                return f"{'+' if change.base is MISSING else '-'} {whole} ({verb} in FC){suffix}"
            if change.base is MISSING:
                return f"+ {whole} (will be created){suffix}"
            return f"- {whole} (will be deleted){suffix}"
        if change.base is MISSING:
            return f"+ {field}: {_show(change.value)}{suffix}"
        if change.value is MISSING:
            return f"- {field}: {_show(change.base)}{suffix}"
        return f"~ {field}: {_show(change.base)} => {_show(change.value)}{suffix}"

    lines = [line(c, "local" if remote else "") for c in local]
    lines += [line(c, "remote") for c in remote or []]
    return "\n".join(lines) if lines else "no changes"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def fingerprint(state: dict[str, Any] | None) -> str:
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
