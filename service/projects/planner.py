"""One plan for a whole project in one account.

Per resource it is the function plan of a single-function deploy (local and
remote changes, conflicts, text, patches), made against the base this
project's last deploy left there. A resource is *stale* when something else
changed it since — another deploy, a console edit — and any stale resource
makes a `fail` deploy refuse the whole project with this plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.deploys.engine import DeployEngine, Prepared
from service.deploys.planner import Plan, make_plan
from service.deploys.schemas import DeployRequest
from service.functions.live import LiveReader
from service.functions.repository import FunctionRepository
from service.functions.state import state_of
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import InvalidInput
from service.kit.redact import looks_secret, scrub_values
from service.models import Account, Function, ProjectRevision, ProjectTarget
from service.models.function import FunctionRef
from service.projects.actions import builds_before_deploy, describe_actions
from service.projects.builds import unbuilt_warning
from service.projects.resources import Deployable, deployable, is_emulator
from service.projects.source import account_config, open_env, parse
from service.projects.spec import Project

# FC calls a plan or deploy makes at once (each resource reads 4-6 APIs itself).
CONCURRENCY = 8
T = TypeVar("T")


async def bounded(calls: list[Callable[[], Awaitable[T]]], limit: int = CONCURRENCY) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


def deploy_layers(spec: Project) -> list[list[str]]:
    """The deploy order: with `flow`, its steps; else each resource as early as its
    output references allow — independent resources together (Serverless Devs runs
    them one by one; fcplane deploys a layer at once), YAML order within a layer."""
    if spec.flow:
        return [list(step) for step in spec.layers]
    level: dict[str, int] = {}
    remaining = list(spec.resources)
    while remaining:
        ready = [
            name for name in remaining if all(d in level for d in spec.resources[name].depends_on)
        ]
        if not ready:  # a cycle: the parser refuses those; never loop forever
            raise ValueError(f"resources {remaining} depend on each other")
        for name in ready:
            deps = spec.resources[name].depends_on
            level[name] = 1 + max((level[d] for d in deps), default=-1)
            remaining.remove(name)
    layers: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for name in spec.resources:
        layers[level[name]].append(name)
    return layers


@dataclass
class Loaded:
    """What the database knows for one project plan or deploy (read in one block)."""

    project_name: str
    revision: ProjectRevision
    account: Account
    target: ProjectTarget | None
    functions: dict[str, Function]  # managed functions of the account named by the project
    checksums: dict[str, str]  # code package sha256 -> FC checksum
    environment: str | None
    spec: Project
    env: dict[str, str]
    # code package sha256 -> its requirements file, when it installs none of them
    unbuilt: dict[str, str] = field(default_factory=dict)

    @property
    def recorded(self) -> dict[str, dict[str, Any]]:
        return dict(self.target.resources) if self.target is not None else {}

    @property
    def secret_values(self) -> list[str]:
        """The ``env`` values whose names look secret: redacted wherever they are shown."""
        return [v for k, v in self.env.items() if looks_secret(k) and len(v) >= 4]


@dataclass
class ResourcePlan:
    name: str
    component: str
    function: str
    state: str  # update | create | adopt | delete | pending
    after: tuple[str, ...]
    base_revision: int
    plan: Plan | None = None
    prepared: Prepared | None = None
    reason: str | None = None  # why it is stale, beyond the plan's remote changes
    deployable: Deployable | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        if self.reason is not None:
            return True
        return self.plan is not None and bool(self.plan.remote or self.plan.behind_head)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "resource": self.name,
            "component": self.component,
            "function": self.function,
            "state": self.state,
            "stale": self.stale,
            "after": list(self.after),
            "base_revision": self.base_revision,
            "plan": self.plan.as_dict() if self.plan is not None else None,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.warnings:
            body["warnings"] = self.warnings
        return body


@dataclass
class ProjectPlan:
    loaded: Loaded
    resources: list[ResourcePlan]
    notes: list[str] = field(default_factory=list)

    @property
    def stale(self) -> list[str]:
        return [r.name for r in self.resources if r.stale]

    def by_name(self) -> dict[str, ResourcePlan]:
        return {r.name: r for r in self.resources}

    def as_dict(self) -> dict[str, Any]:
        spec = self.loaded.spec
        actions = describe_actions(spec)
        body = {
            "project": self.loaded.project_name,
            "revision": self.loaded.revision.number,
            "account": self.loaded.account.alias,
            "environment": self.loaded.environment,
            "target_revision": self.loaded.target.revision if self.loaded.target else 0,
            "layers": deploy_layers(spec),
            "resources": [r.as_dict() for r in self.resources],
            "actions": actions,
            "notes": self.notes,
            "warnings": [
                *spec.warnings,
                *(f"{r.name}: {w}" for r in self.resources for w in r.warnings),
            ],
            "stale": self.stale,
            "text": self.text(),
        }
        shown: dict[str, Any] = scrub_values(body, self.loaded.secret_values)
        return shown

    def text(self) -> str:
        lines: list[str] = []
        for r in self.resources:
            mark = " (stale)" if r.stale else ""
            lines.append(f"{r.name} [{r.state}] {r.function}{mark}:")
            if r.reason:
                lines.append(f"    ! {r.reason}")
            lines.extend(f"    warning: {w}" for w in r.warnings)
            if r.plan is not None:
                lines.extend("    " + line for line in r.plan.as_dict()["text"].splitlines())
            elif r.state == "pending":
                lines.append(f"    (props known after {', '.join(r.after)} deploy)")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


class ProjectPlanner:
    def __init__(self, db: Database, box: SecretBox, engine: DeployEngine) -> None:
        self.db = db
        self.box = box
        self.engine = engine

    def resolve(
        self, revision: ProjectRevision, account: Account, environment: str | None
    ) -> tuple[Project, dict[str, str]]:
        env = open_env(self.box, revision.env_sealed)
        spec = parse(revision.files, revision.main, env, account_config(account), environment)
        return spec, env

    async def plan(self, loaded: Loaded, adopt: bool) -> ProjectPlan:
        access = access_for(self.box, loaded.account)
        emulator = is_emulator(loaded.account.endpoint)
        code = loaded.revision.code
        deployables = [
            deployable(
                r,
                None if r.pending else r.props,
                code,
                loaded.account.region,
                emulator,
            )
            for r in loaded.spec.resources.values()
        ]
        functions = [d.function for d in deployables]
        if len(set(functions)) != len(functions):
            twice = sorted({f for f in functions if functions.count(f) > 1})
            raise InvalidInput(
                f"resources: function {', '.join(twice)} is named by more than one resource",
                field="resources",
            )
        calls = [
            bind(self._resource, loaded, access, d, loaded.spec.resources[d.name].component, adopt)
            for d in deployables
        ]
        planned = await bounded(calls)
        for d, resource_plan in zip(deployables, planned, strict=True):
            requirements = loaded.unbuilt.get(d.code_sha256 or "")
            if requirements and not builds_before_deploy(loaded.spec.resources[d.name].actions):
                resource_plan.warnings.append(unbuilt_warning(requirements))
        planned.extend(self._deletions(loaded, set(loaded.spec.resources)))
        notes = []
        if any(a["runs_on"] == "client" for a in describe_actions(loaded.spec)):
            notes.append(
                "run and plugin actions are never executed by the fcplane server: the fcplane "
                "CLI runs them on the caller's machine, around the deploy"
            )
        return ProjectPlan(loaded, planned, notes)

    def _deletions(self, loaded: Loaded, present: set[str]) -> list[ResourcePlan]:
        out = []
        for name, entry in sorted(loaded.recorded.items()):
            if name in present:
                continue
            function = str(entry["function"])
            managed = loaded.functions.get(function)
            base = int(entry["revision"])
            reason = None
            if managed is not None and managed.head_revision != base:
                reason = (
                    f"function '{function}' is at revision {managed.head_revision}, not "
                    f"{base} as this project left it"
                )
            out.append(ResourcePlan(name, "fc3", function, "delete", (), base, reason=reason))
        return out

    async def _resource(
        self, loaded: Loaded, access: FcAccess, d: Deployable, component: str, adopt: bool
    ) -> ResourcePlan:
        managed = loaded.functions.get(d.function)
        entry = loaded.recorded.get(d.name)
        ref = FunctionRef(loaded.account.alias, d.function)
        if managed is not None:
            reason = None
            if entry is not None and entry.get("function") == d.function:
                base = int(entry["revision"])
            else:
                base = managed.head_revision
                if not adopt:
                    reason = (
                        f"function '{d.function}' is managed by fcplane outside this project; "
                        "deploy with adopt to take it over"
                    )
            state = "pending" if d.config is None else "update"
            prepared = await self.prepare(ref, d, base, managed)
            plan = prepared.plan if prepared is not None else None
            return ResourcePlan(
                d.name, component, d.function, state, d.after, base, plan, prepared, reason, d
            )
        live = await LiveReader(self.engine.gateway).read(access, d.function)
        if d.config is None:
            reason = None
            if live is not None and not adopt:
                reason = f"function '{d.function}' exists in FC; deploy with adopt to take it over"
            return ResourcePlan(
                d.name, component, d.function, "pending", d.after, 0, reason=reason, deployable=d
            )
        local = state_of(d.config.wire(), loaded.checksums.get(d.code_sha256 or ""))
        if live is None:
            plan = make_plan(ref, 0, 0, {}, local, None, None)
            return ResourcePlan(
                d.name, component, d.function, "create", d.after, 0, plan, deployable=d
            )
        if adopt:
            plan = make_plan(ref, 1, 1, live.state, local, live.state, live.state)
            return ResourcePlan(
                d.name, component, d.function, "adopt", d.after, 1, plan, deployable=d
            )
        plan = make_plan(ref, 0, 0, {}, local, live.state, None)
        reason = f"function '{d.function}' exists in FC; deploy with adopt to take it over"
        return ResourcePlan(
            d.name, component, d.function, "create", d.after, 0, plan, reason=reason, deployable=d
        )

    async def prepare(
        self, ref: FunctionRef, d: Deployable, base: int, managed: Function
    ) -> Prepared | None:
        """The engine's plan for a managed function; a pending one is compared as its base
        (what FC changed since shows; what this deploy changes is not known yet)."""
        if d.config is not None:
            request = DeployRequest(config=d.config, code_sha256=d.code_sha256, base_revision=base)
            return await self.engine.prepare(ref, request)
        if base == 0:
            return None
        async with self.db.read() as session:
            revision = await FunctionRepository(session).revision(managed.id, base)
        if revision is None:
            return None
        return await self.engine.prepare(
            ref, DeployRequest(base_revision=base), local_override=revision
        )


def bind(fn: Callable[..., Awaitable[T]], *args: Any) -> Callable[[], Awaitable[T]]:
    return lambda: fn(*args)
