"""Multi-environment ``env.yaml``: which environment applies, and its overlays.

Upstream (parse-spec ``doEnvironment``) reads the file named by the s.yaml
``env`` key, default ``env.yaml``, and picks ``--env <name>`` or a default
recorded in ``~/.s``; fcplane has no such home directory, so only an explicit
environment applies. A missing file or unknown name runs without one, with a
warning, as upstream. Overlays are props: ``overlays.resources.<name>`` wins
over ``overlays.components.<component>``, which wins over s.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.projects.spec.errors import SpecError
from service.projects.spec.functions import join_path
from service.projects.spec.loader import MarkedMap, MarkedStr, load_yaml, plain

_CONFLICT = (
    "env and extend cannot be combined (Serverless Devs: Environment and extend is conflict)"
)


@dataclass(frozen=True)
class Environment:
    name: str
    file: str
    entry: MarkedMap

    @property
    def access(self) -> str | None:
        access = self.entry.get("access")
        return str(access) if isinstance(access, str) else None

    def overlay(self, section: str, key: str) -> MarkedMap | None:
        overlays = self.entry.get("overlays")
        found = overlays.get(section) if isinstance(overlays, MarkedMap) else None
        chosen = found.get(key) if isinstance(found, MarkedMap) else None
        return chosen if isinstance(chosen, MarkedMap) else None

    def infrastructure_region(self) -> Any:
        stack = self.entry.get("infraStack")
        return stack.get("region") if isinstance(stack, MarkedMap) else None

    def as_this(self, project: str | None) -> dict[str, Any]:
        """``${this}`` in env.yaml: the entry without its overlays, plus ``project``."""
        described = {
            k: plain(v) for k, v in self.entry.items() if k not in ("overlays", "infrastructure")
        }
        if project is not None:
            described["project"] = project
        return described


def select_environment(
    document: MarkedMap,
    files: Mapping[str, str],
    main: str,
    environment: str | None,
    extended: bool,
    warn: Callable[[str], None],
) -> Environment | None:
    declared = document.get("env")
    if extended and (environment is not None or declared is not None):
        mark = declared.mark if isinstance(declared, MarkedStr) else document.mark
        raise SpecError.at(mark, _CONFLICT)
    if environment is None:
        return None
    if declared is not None and not isinstance(declared, str):
        raise SpecError.at(document.mark, "env must name the environment file")
    path = join_path(main, str(declared or "env.yaml"))
    if path not in files:
        warn(f"environment file '{path}' is not among the files; running without environment")
        return None
    content = load_yaml(files[path], path)
    environments = content.get("environments") if isinstance(content, MarkedMap) else None
    if not isinstance(environments, list):
        raise SpecError("an environment file needs an `environments` list", file=path)
    for entry in environments:
        if isinstance(entry, MarkedMap) and entry.get("name") == environment:
            return Environment(environment, path, entry)
    warn(f"environment '{environment}' is not in '{path}'; running without environment")
    return None
