"""The running report of one conversion, and the s.yaml expressions every mapper shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.projects.fun2s.schemas import Unmapped

Path = tuple[str, ...]

REGION = "${vars.region}"
ACCOUNT = "${config('AccountID')}"


def dotted(path: Path) -> str:
    return ".".join(path)


def role_arn(name: str) -> str:
    return f"acs:ram::{ACCOUNT}:role/{name}"


@dataclass
class Context:
    region: str
    parameters: dict[str, Any] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)  # MNS topics the template declares
    unmapped: list[Unmapped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def drop(self, path: Path, reason: str) -> None:
        """Record something the s.yaml does not carry."""
        self.unmapped.append(Unmapped(dotted(path), reason))

    def warn(self, path: Path, message: str) -> None:
        """Record a mapping that needed a judgement call."""
        self.warnings.append(f"{dotted(path)}: {message}")

    def text(self, path: Path, value: Any) -> str | None:
        """A string-valued property; numbers are written as YAML would print them."""
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            self.drop(path, f"expected a string, found {type(value).__name__} {value!r}")
            return None
        return str(value)

    def integer(self, path: Path, value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        self.drop(path, f"expected an integer, found {value!r}")
        return None

    def boolean(self, path: Path, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.drop(path, f"expected true or false, found {value!r}")
        return None

    def mapping(self, path: Path, value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.drop(path, f"expected a mapping, found {value!r}")
        return None
