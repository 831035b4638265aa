"""The registry of job kinds: kind name → the object that runs it.

Kinds live in their own domains (service.loadtest, service.evals, service.build); a kind
whose module is not installed (or fails to import) is simply absent, so the
rest of the job system, and every other kind, keeps working.
"""

from __future__ import annotations

import importlib
import logging

from service.jobs.contract import JobKind

log = logging.getLogger(__name__)

# module → names of the JobKind objects it exports
_SOURCES: dict[str, tuple[str, ...]] = {
    "service.loadtest.kind": ("STRESS",),
    "service.evals.kinds": ("EVAL_SPEC", "EVAL_CONCURRENCY"),
    "service.build.kind": ("BUILD",),
}


def load(sources: dict[str, tuple[str, ...]]) -> dict[str, JobKind]:
    kinds: dict[str, JobKind] = {}
    for module_name, attributes in sources.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (
                module_name == exc.name or module_name.startswith(exc.name + ".")
            ):
                continue  # that domain is not part of this build
            log.exception("job kinds in %s cannot be imported; they are unavailable", module_name)
            continue
        except Exception:  # a broken kind must not take the API and the other kinds down
            log.exception("job kinds in %s cannot be imported; they are unavailable", module_name)
            continue
        for attribute in attributes:
            kind = getattr(module, attribute, None)
            if kind is None:
                log.error("%s has no job kind %s", module_name, attribute)
                continue
            kinds[kind.name] = kind
    return kinds


KINDS: dict[str, JobKind] = load(_SOURCES)


def register(kind: JobKind) -> None:
    """Add a kind at run time (tests, plugins)."""
    KINDS[kind.name] = kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)
