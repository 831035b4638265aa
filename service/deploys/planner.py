"""The three-way comparison behind plans and deploys (pure: no I/O).

base   = the revision the client started from (empty for a first deploy)
local  = what the client submits
remote = what FC runs now (live), which also carries any newer head's changes
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from service.functions import diff
from service.functions.diff import Change, Conflict

Strategy = Literal["fail", "use-local", "use-remote", "merge"]


@dataclass(frozen=True)
class Plan:
    function: str
    base_revision: int
    head_revision: int
    drifted: bool
    remote_missing: bool
    local: list[Change]
    remote: list[Change]
    conflicts: list[Conflict]
    interrupted_deployment: str | None = None

    @property
    def behind_head(self) -> bool:
        return self.base_revision != self.head_revision

    @property
    def conflict_code(self) -> str:
        return "revision_conflict" if self.behind_head else "drift_conflict"

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "base_revision": self.base_revision,
            "head_revision": self.head_revision,
            "drifted": self.drifted,
            "remote_missing": self.remote_missing,
            "interrupted_deployment": self.interrupted_deployment,
            "local_changes": [c.as_dict() for c in self.local],
            "remote_changes": [c.as_dict() for c in self.remote],
            "conflicts": [c.as_dict() for c in self.conflicts],
            "local_patch": [c.as_patch() for c in self.local],
            "remote_patch": [c.as_patch() for c in self.remote],
            "text": diff.render(self.local, self.remote if self.remote else None),
        }


def make_plan(
    function: str,
    base_revision: int,
    head_revision: int,
    base: dict[str, Any],
    local: dict[str, Any],
    live: dict[str, Any] | None,
    applied: dict[str, Any] | None,
    interrupted_deployment: str | None = None,
) -> Plan:
    remote = live if live is not None else {}
    local_changes = diff.changes(base, local)
    remote_changes = diff.changes(base, remote)
    drifted = applied is not None and live != applied
    return Plan(
        function=function,
        base_revision=base_revision,
        head_revision=head_revision,
        drifted=drifted,
        remote_missing=live is None,
        local=local_changes,
        remote=remote_changes,
        conflicts=diff.conflicts(local_changes, remote_changes),
        interrupted_deployment=interrupted_deployment,
    )


@dataclass(frozen=True)
class Outcome:
    """What a strategy decides: push ``target``, adopt the live state, or refuse."""

    action: Literal["push", "adopt", "refuse"]
    target: dict[str, Any] | None = None
    reason: str = ""


def decide(
    plan: Plan, strategy: Strategy, local: dict[str, Any], live: dict[str, Any] | None
) -> Outcome:
    if strategy == "use-remote":
        if live is None:
            return Outcome("refuse", reason="the function does not exist in FC: nothing to adopt")
        return Outcome("adopt", target=live)
    if strategy == "use-local":
        return Outcome("push", target=local)
    if strategy == "merge":
        if plan.conflicts:
            paths = ", ".join(c.path for c in plan.conflicts)
            return Outcome("refuse", reason=f"both sides changed {paths}; resolve and retry")
        merged = diff.apply(live if live is not None else {}, plan.local)
        return Outcome("push", target=merged)
    # fail: only a deploy on top of an unchanged head and an undrifted function.
    if plan.behind_head:
        return Outcome(
            "refuse",
            reason=(
                f"revision {plan.head_revision} was deployed since base revision "
                f"{plan.base_revision}"
            ),
        )
    if plan.head_revision == 0 and plan.remote:
        return Outcome(
            "refuse",
            reason=(
                "a function with this name already exists in FC and fcplane never deployed it: "
                "register it with adopt, or deploy with merge or use-local"
            ),
        )
    if plan.drifted:
        return Outcome("refuse", reason="the live function differs from its applied state")
    return Outcome("push", target=local)
