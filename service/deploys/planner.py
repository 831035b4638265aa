"""The three-way comparison behind plans and deploys (pure: no I/O).

base   = the revision the client started from (empty for a first deploy)
local  = what the client submits
remote = what FC runs now (live) — or, while another deploy holds the
         function, the state that deploy is pushing: a deploy never races
         one in flight, so what matters is what the function is about to be
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from service.functions import diff
from service.functions.diff import Change, Conflict
from service.functions.handler_check import PlanWarning
from service.kit.errors import DRIFT_CONFLICT, REVISION_CONFLICT
from service.models.deployment import Strategy
from service.models.function import FunctionRef, claim_holder


@dataclass(frozen=True)
class Plan:
    function: FunctionRef
    base_revision: int
    head_revision: int
    drifted: bool
    remote_missing: bool
    local: list[Change]
    remote: list[Change]
    conflicts: list[Conflict]
    interrupted_deployment: str | None = None
    # Another deployment holds the function (is pushing); its target is the remote.
    deploying: str | None = None
    # What the deploy would break though FC accepts it (a handler not in the code).
    warnings: list[PlanWarning] = field(default_factory=list)

    @property
    def behind_head(self) -> bool:
        """Another deploy moved the head since the base, or is moving it now."""
        return self.base_revision != self.head_revision or self.deploying is not None

    @property
    def conflict_code(self) -> str:
        """``revision_conflict`` when another deploy is the reason; ``drift_conflict``
        when FC itself differs from what fcplane applied (or runs a function fcplane
        never deployed)."""
        return REVISION_CONFLICT if self.behind_head else DRIFT_CONFLICT

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.function.account,
            "function": self.function.name,
            "base_revision": self.base_revision,
            "head_revision": self.head_revision,
            "drifted": self.drifted,
            "remote_missing": self.remote_missing,
            "interrupted_deployment": self.interrupted_deployment,
            "deploying": self.deploying,
            "local_changes": [c.as_dict() for c in self.local],
            "remote_changes": [c.as_dict() for c in self.remote],
            "conflicts": [c.as_dict() for c in self.conflicts],
            "local_patch": [c.as_patch() for c in self.local],
            "remote_patch": [c.as_patch() for c in self.remote],
            "text": diff.render(self.local, self.remote if self.remote else None),
            "warnings": [w.as_dict() for w in self.warnings],
        }


def make_plan(
    function: FunctionRef,
    base_revision: int,
    head_revision: int,
    base: dict[str, Any],
    local: dict[str, Any],
    live: dict[str, Any] | None,
    applied: dict[str, Any] | None,
    *,
    interrupted_deployment: str | None = None,
    deploying: tuple[str, dict[str, Any] | None] | None = None,
) -> Plan:
    """``deploying``: who holds the function and the state it pushes (None: it pushes
    nothing a plan compares, as a publish; the remote side is then what FC has)."""
    if deploying is not None:
        remote = deploying[1] if deploying[1] is not None else (live or {})
        drifted = False  # FC is in the middle of a deploy: nothing to judge yet
    else:
        remote = live if live is not None else {}
        drifted = applied is not None and live != applied
    local_changes = diff.changes(base, local)
    remote_changes = diff.changes(base, remote)
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
        deploying=deploying[0] if deploying is not None else None,
    )


@dataclass(frozen=True)
class Outcome:
    """What a strategy decides: push ``target``, adopt the live state, or refuse.

    ``discarded``: local changes the target leaves out (use-remote, merge);
    ``overwritten``: remote changes the target replaces (use-local).
    """

    action: Literal["push", "adopt", "refuse"]
    target: dict[str, Any] | None = None
    reason: str = ""
    discarded: list[Change] = field(default_factory=list)
    overwritten: list[Change] = field(default_factory=list)


def _going(plan: Plan, action: Literal["push", "adopt"], target: dict[str, Any]) -> Outcome:
    return Outcome(
        action,
        target=target,
        discarded=diff.not_in(target, plan.local),
        overwritten=diff.not_in(target, plan.remote),
    )


def decide(
    plan: Plan, strategy: Strategy, local: dict[str, Any], live: dict[str, Any] | None
) -> Outcome:
    if plan.deploying is not None:
        return Outcome(
            "refuse",
            reason=f"{claim_holder(plan.deploying)} holds this function now; re-plan once it "
            "has finished",
        )
    if strategy == Strategy.USE_REMOTE:
        if live is None:
            return Outcome("refuse", reason="the function does not exist in FC: nothing to adopt")
        return _going(plan, "adopt", live)
    if strategy == Strategy.USE_LOCAL:
        return _going(plan, "push", local)
    if strategy == Strategy.MERGE:
        if plan.conflicts:
            paths = ", ".join(c.path for c in plan.conflicts)
            return Outcome("refuse", reason=f"both sides changed {paths}; resolve and retry")
        return _going(plan, "push", diff.apply(live if live is not None else {}, plan.local))
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
    return _going(plan, "push", local)
