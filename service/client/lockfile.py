"""`.fcplane/lock.json`: what this checkout last deployed, per target account.

The next deploy sends the project revision recorded here as `base_revision`,
so a deploy by anybody else in between is a conflict, not an overwrite. The
file is meant to be committed: sorted keys, no timestamps, one entry per
account (environment) and, in it, one per resource — a deploy changes only
the lines of what it changed.

    {
      "version": 1,
      "project": "hello",
      "targets": {
        "local": {
          "environment": null,
          "revision": 2,
          "resources": {
            "hello": {"code": {"./code": "<sha256>"}, "function": "hello", "revision": 2}
          }
        }
      }
    }
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.client.errors import ClientError

LOCK_PATH = Path(".fcplane") / "lock.json"
VERSION = 1


@dataclass
class Lock:
    path: Path
    project: str
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, project: str) -> Lock:
        path = root / LOCK_PATH
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path, project)
        except (OSError, ValueError) as exc:
            raise ClientError(f"cannot read {path}: {exc}; fix or delete it") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ClientError(f"{path} is not an fcplane lock file (version {VERSION})")
        if data.get("project") != project:
            # The s.yaml was renamed: the old project's bases mean nothing to the new one.
            return cls(path, project)
        targets = data.get("targets")
        return cls(path, project, dict(targets) if isinstance(targets, dict) else {})

    def base_revision(self, account: str) -> int:
        """The project revision this checkout last deployed to ``account`` (0: never)."""
        entry = self.targets.get(account) or {}
        revision = entry.get("revision")
        return revision if isinstance(revision, int) else 0

    def record(
        self,
        account: str,
        environment: str | None,
        target: dict[str, Any] | None,
        code: dict[str, dict[str, str]],
    ) -> dict[str, Any]:
        """Remember the server's record of the project in ``account`` (``target``: the
        project's `targets[]` entry) with the code each resource was deployed from."""
        if target is None:
            self.targets.pop(account, None)
            return {}
        resources = {
            name: {
                "function": entry.get("function"),
                "revision": entry.get("revision"),
                "code": code.get(name, {}),
            }
            for name, entry in sorted((target.get("resources") or {}).items())
        }
        entry = {"environment": environment, "revision": target["revision"], "resources": resources}
        self.targets[account] = entry
        return entry

    def save(self) -> None:
        data = {"version": VERSION, "project": self.project, "targets": self.targets}
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        try:
            if self.path.exists() and self.path.read_text() == text:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(text)
            os.replace(temporary, self.path)
        except OSError as exc:
            raise ClientError(f"cannot write {self.path}: {exc.strerror or exc}") from None
