"""What a conversion hands back, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class TemplateError(Exception):
    """The input is not YAML, not a Funcraft template, or too large to read safely."""

    def __init__(self, reason: str, *, file: str = "template.yml", line: int | None = None) -> None:
        super().__init__(reason)
        self.file = file
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.reason}"
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Unmapped:
    """Something in the template the s.yaml does not carry, and why."""

    path: str  # dotted, from the template root: "Resources.demo.rds-fn.Events.rds-trigger"
    reason: str


@dataclass
class Conversion:
    syaml: str  # the fc3 s.yaml text
    document: dict[str, Any]  # what the text loads to
    unmapped: list[Unmapped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # mapped, with a judgement call
