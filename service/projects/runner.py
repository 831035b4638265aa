"""A project deploy: one concurrency check for the whole project, then its resources
in dependency order (independent ones at once), outputs feeding the next layer.

A failed resource stops the resources that depend on it; the others still
land, and the deployment records exactly which did (and the target keeps, per
resource, the function revision that is now the base of the next deploy).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from service.accounts.service import access_for
from service.cloud.gateway import FcGateway
from service.deploys.engine import DeployEngine
from service.deploys.schemas import DeployRequest
from service.functions.service import FunctionService
from service.functions.state import props_of
from service.kit.errors import Conflict, DomainError
from service.kit.redact import scrub_values
from service.models import ProjectDeployment, ProjectTarget
from service.models.base import utcnow
from service.models.deployment import Strategy
from service.models.function import FunctionRef
from service.models.project import ProjectDeploymentStatus
from service.projects import actions as acts
from service.projects.builds import ProjectBuilder
from service.projects.planner import (
    CONCURRENCY,
    Loaded,
    ProjectPlan,
    ProjectPlanner,
    ResourcePlan,
    bounded,
    deploy_layers,
)
from service.projects.repository import ProjectRepository
from service.projects.resources import deployable, is_emulator
from service.projects.schemas import ProjectDeployRequest
from service.projects.source import spec_problem
from service.projects.spec import Resource, SpecError, resolve_outputs
from service.releases.schemas import AliasPut
from service.releases.service import ReleaseService

BUILDS_AT_ONCE = 2


def _why(record: dict[str, Any]) -> str:
    error = record.get("error") or {}
    return f"{record['value']}: {error.get('detail', record['status'])}"


class ProjectConflict(Conflict):
    code, title = "project_conflict", "The project changed since its last deploy"


class TargetBusy(Conflict):
    code, title = "project_deploying", "Another deploy of this project is running"


def _strategy(request: ProjectDeployRequest, resource: str) -> Strategy:
    return request.strategies.get(resource, request.strategy)


class ProjectRunner:
    def __init__(
        self,
        planner: ProjectPlanner,
        gateway: FcGateway,
        functions: FunctionService,
        releases: ReleaseService,
        lease: timedelta,
        builder: ProjectBuilder,
    ) -> None:
        self.planner = planner
        self.db = planner.db
        self.engine: DeployEngine = planner.engine
        self.gateway = gateway
        self.functions = functions
        self.releases = releases
        self.lease = lease
        self.builder = builder

    async def deploy(
        self, loaded: Loaded, request: ProjectDeployRequest, author: str | None
    ) -> ProjectDeployment:
        plan = await self.planner.plan(loaded, request.adopt)
        record = ProjectDeployment(
            id=str(uuid.uuid4()),
            project_id=loaded.revision.project_id,
            account_id=loaded.account.id,
            revision=loaded.revision.number,
            environment=loaded.environment,
            strategy=request.strategy.value,
            resolved={},
            results=[],
            actions=[],
            created_by=author,
            started_at=utcnow(),
        )
        refusal = self._refusal(loaded, plan, request, record)
        if refusal is not None:
            record.status = ProjectDeploymentStatus.CONFLICT
            record.error = {"code": refusal.code, "detail": refusal.detail}
            record.finished_at = utcnow()
            async with self.db.write() as session:
                await ProjectRepository(session).add(record)
            raise refusal
        await self._claim(loaded, record)
        run = _Run(self, loaded, plan, request, author, record)
        try:
            await run.all()
        except BaseException as exc:
            # Cancelled or broken mid-way: what landed is still recorded below.
            run.error = {
                "code": "interrupted",
                "detail": f"the deploy stopped ({type(exc).__name__})",
            }
            raise
        finally:
            await self._finish(run)
        return record

    def _refusal(
        self,
        loaded: Loaded,
        plan: ProjectPlan,
        request: ProjectDeployRequest,
        record: ProjectDeployment,
    ) -> ProjectConflict | None:
        """The 409 of a deploy that must not start (nothing has been written)."""
        current = loaded.target.revision if loaded.target else 0
        if request.base_revision is not None and request.base_revision != current:
            return ProjectConflict(
                f"base_revision: project revision {current} is deployed to account "
                f"'{loaded.account.alias}', not {request.base_revision}; plan again",
                plan=plan.as_dict(),
                deployment_id=record.id,
            )
        refused = [
            r.name for r in plan.resources if r.stale and _strategy(request, r.name) == "fail"
        ]
        if not refused:
            return None
        return ProjectConflict(
            f"{', '.join(refused)} changed since this project last deployed them; "
            "review the plan and deploy with strategy use-local, use-remote or merge "
            "(for all, or per resource in `strategies`)",
            plan=plan.as_dict(),
            refused=refused,
            deployment_id=record.id,
        )

    async def _claim(self, loaded: Loaded, record: ProjectDeployment) -> None:
        now = utcnow()
        async with self.db.write() as session:
            projects = ProjectRepository(session)
            target = await projects.target(record.project_id, record.account_id)
            if target is None:
                target = ProjectTarget(
                    project_id=record.project_id,
                    account_id=record.account_id,
                    revision=0,
                    resources={},
                    updated_at=now,
                )
                await projects.add(target)
                await session.flush()
            if not await projects.claim_target(target.id, record.id, now, now + self.lease):
                raise TargetBusy(
                    f"another deploy of project '{loaded.project_name}' to account "
                    f"'{loaded.account.alias}' is running; try again once it has ended",
                )
            await projects.add(record)

    async def _finish(self, run: _Run) -> None:
        record = run.record
        record.results = [run.results[name] for name in run.order if name in run.results]
        record.actions = run.action_records
        record.resolved = scrub_values(run.resolved, run.loaded.secret_values)
        failed = any(r["status"] in ("failed", "skipped", "refused") for r in record.results)
        record.status = (
            ProjectDeploymentStatus.FAILED
            if failed or run.error
            else ProjectDeploymentStatus.SUCCEEDED
        )
        record.error = run.error
        record.finished_at = utcnow()
        async with self.db.write() as session:
            projects = ProjectRepository(session)
            locked = await projects.target_for_update(record.project_id, record.account_id)
            if locked is not None and locked.claim_id == record.id:
                resources = dict(locked.resources)
                for name, result in run.results.items():
                    if result.get("revision") is not None:
                        resources[name] = {
                            "function": result["function"],
                            "revision": result["revision"],
                        }
                    elif result["status"] == "deleted":
                        resources.pop(name, None)
                locked.resources = resources
                locked.revision = record.revision
                locked.claim_id = None
                locked.claim_until = None
                locked.updated_at = utcnow()
            await projects.save_deployment(record)


class _Run:
    """The state of one project deploy while it runs."""

    def __init__(
        self,
        runner: ProjectRunner,
        loaded: Loaded,
        plan: ProjectPlan,
        request: ProjectDeployRequest,
        author: str | None,
        record: ProjectDeployment,
    ) -> None:
        self.runner = runner
        self.loaded = loaded
        self.plan = plan
        self.planned = plan.by_name()
        self.request = request
        self.author = author
        self.record = record
        self.access = access_for(runner.planner.box, loaded.account)
        self.order = [r.name for r in plan.resources]
        self.results: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.resolved: dict[str, Any] = {}
        self.action_records: list[dict[str, Any]] = []
        self.published: dict[str, str] = {}
        self.built: dict[str, str] = {}  # resource -> the package its `fc3 build` made
        # Builds are CPU- and memory-heavy (each may use BuildLimits.memory_mb): a few at once.
        self.build_turns = asyncio.Semaphore(BUILDS_AT_ONCE)
        self.domains: dict[str, asyncio.Lock] = {}
        self.bases: dict[str, int] = {}  # resource -> the function revision its deploy started from
        self.error: dict[str, Any] | None = None
        spec = loaded.spec
        self.feeds = {d for r in spec.resources.values() for d in r.depends_on}

    async def all(self) -> None:
        spec = self.loaded.spec
        for layer in deploy_layers(spec):
            await bounded([self._bound(name) for name in layer], CONCURRENCY)
        deletions = [r for r in self.plan.resources if r.state == "delete"]
        await bounded([self._bound_delete(r) for r in deletions], CONCURRENCY)

    def _bound(self, name: str) -> Any:
        return lambda: self._resource(self.loaded.spec.resources[name])

    def _bound_delete(self, planned: ResourcePlan) -> Any:
        return lambda: self._delete(planned)

    def _result(self, resource: str, function: str | None, status: str, **extra: Any) -> None:
        self.results[resource] = {"resource": resource, "function": function, "status": status}
        self.results[resource].update(extra)

    async def _resource(self, resource: Resource) -> None:
        planned = self.planned[resource.name]
        failed_deps = [
            d
            for d in resource.depends_on
            if self.results.get(d, {}).get("status") not in ("deployed", "unchanged")
        ]
        if failed_deps:
            self._result(
                resource.name,
                planned.function,
                "skipped",
                error={"detail": f"not deployed: {', '.join(sorted(failed_deps))} did not land"},
            )
            return
        failed_pre = await self._actions(resource, "pre", planned.function)
        if failed_pre is None:
            try:
                async with self._domain_turn(resource):
                    await self._deploy(resource, planned)
            except DomainError as error:
                self._result(
                    resource.name,
                    planned.function,
                    "refused" if error.status == 409 else "failed",
                    # The function's revision is unchanged; once registered, it is this
                    # project's (the next deploy's base), whatever FC accepted meanwhile.
                    revision=self.bases.get(resource.name),
                    error={"code": error.code, "detail": error.detail, "status": error.status},
                )
        else:
            self._result(
                resource.name,
                planned.function,
                "failed",
                error={"detail": f"a pre-deploy action failed: {_why(failed_pre)}"},
            )
        landed = self.results[resource.name]["status"] in ("deployed", "unchanged")
        if landed:
            failed_success = await self._actions(resource, "success", planned.function)
            if failed_success is not None:
                self.results[resource.name]["status"] = "failed"
                self.results[resource.name]["error"] = {
                    "detail": f"a success action failed: {_why(failed_success)}"
                }
        else:
            await self._actions(resource, "fail", planned.function)
        await self._actions(resource, "complete", planned.function)

    def _domain_turn(self, resource: Resource) -> contextlib.AbstractAsyncContextManager[Any]:
        """Resources routing through one custom domain deploy one after the other: the
        first creates the domain, the next add their routes to it (at once, both would
        try to create it)."""
        custom = resource.props.get("customDomain")
        domain = custom.get("domainName") if isinstance(custom, Mapping) else None
        if not isinstance(domain, str):
            return contextlib.nullcontext()
        return self.domains.setdefault(domain, asyncio.Lock())

    async def _deploy(self, resource: Resource, planned: ResourcePlan) -> None:
        runner, loaded = self.runner, self.loaded
        ref = FunctionRef(loaded.account.alias, planned.function)
        strategy = _strategy(self.request, resource.name)
        prepared = planned.prepared if planned.state != "pending" else None
        if planned.function in loaded.functions:
            self.bases[resource.name] = planned.base_revision
        built = self.built.get(resource.name)
        if resource.pending or prepared is None or built is not None:
            props = resource.props
            if resource.pending:
                try:
                    props = resolve_outputs(resource, self.outputs)
                except SpecError as error:
                    raise spec_problem(error) from None
            d = deployable(
                resource,
                props,
                loaded.revision.code,
                loaded.account.region,
                is_emulator(loaded.account.endpoint),
            )
            assert d.config is not None
            if built is not None:  # the plan compared the source package; deploy the build
                d = dataclasses.replace(d, code_sha256=built)
            base = planned.base_revision
            if planned.function not in loaded.functions:
                function = await runner.functions.register(
                    ref, self.request.adopt and planned.state in ("adopt", "pending"), self.author
                )
                base = function.head_revision
            self.bases[resource.name] = base
            prepared = await runner.engine.prepare(
                ref,
                DeployRequest(config=d.config, code_sha256=d.code_sha256, base_revision=base),
            )
        self.resolved[resource.name] = props_of(prepared.loaded.local)
        plan = prepared.plan
        if not plan.local and not plan.remote and not plan.behind_head and plan.head_revision:
            self._result(resource.name, planned.function, "unchanged", revision=plan.head_revision)
            await self._outputs(resource, prepared.loaded.local)
            return
        deployment, revision = await runner.engine.run(
            prepared,
            strategy,
            author=self.author,
            message=self.request.message
            or f"project {loaded.project_name} r{loaded.revision.number}",
            allow_missing_handler=self.request.allow_missing_handler,
        )
        self._result(
            resource.name,
            planned.function,
            "deployed",
            revision=revision.number,
            deployment_id=deployment.id,
        )
        await self._outputs(resource, revision.config)

    async def _outputs(self, resource: Resource, state: Mapping[str, Any]) -> None:
        """fc3's deploy output, for the resources that read it."""
        if resource.name not in self.feeds:
            return
        name = str(resource.props.get("functionName"))
        out: dict[str, Any] = {"region": self.loaded.account.region, **props_of(state)}
        out["functionName"] = name
        out["functionArn"] = (
            f"acs:fc:{self.loaded.account.region}:{self.loaded.account.account_id}:functions/{name}"
        )
        url: dict[str, Any] = {}
        if any(t.get("triggerType") == "http" for t in out.get("triggers") or []):
            for trigger in await self.runner.gateway.list_triggers(self.access, name):
                http = trigger.get("httpTrigger") or {}
                if trigger.get("triggerType") == "http" and http.get("urlInternet"):
                    url = {
                        "system_url": http.get("urlInternet"),
                        "system_intranet_url": http.get("urlIntranet"),
                    }
                    break
        custom = out.get("customDomain")
        if isinstance(custom, Mapping) and custom.get("domainName"):
            url["custom_domain"] = [{"domain": f"http://{custom['domainName']}"}]
        out["url"] = url
        self.outputs[resource.name] = out

    async def _delete(self, planned: ResourcePlan) -> None:
        ref = FunctionRef(self.loaded.account.alias, planned.function)
        try:
            await self.runner.functions.remove(ref, planned.base_revision, delete_remote=True)
        except DomainError as error:
            self._result(
                planned.name,
                planned.function,
                "failed",
                error={"code": error.code, "detail": error.detail, "status": error.status},
            )
            return
        self._result(planned.name, planned.function, "deleted")

    async def _actions(self, resource: Resource, hook: str, function: str) -> dict[str, Any] | None:
        """Run the resource's server actions of ``hook``; the record of the one that failed
        (and does not allow failure), which stops them; None when none did."""
        for action in acts.for_deploy(resource.actions, hook):
            if acts.server_command(action) is None:
                continue
            done = await acts.run_server_action(action, function, self._ops(), self.published)
            self.action_records.append(done)
            if done["status"] == "failed" and not acts.allows_failure(action):
                return done
        return None

    def _ops(self) -> acts.ServerActions:
        account = self.loaded.account.alias
        releases = self.runner.releases

        async def publish(function: str, description: str) -> str:
            version = await releases.publish(
                FunctionRef(account, function), description, self.author
            )
            return version.version_id

        async def alias(function: str, name: str, version: str, description: str) -> None:
            ref = FunctionRef(account, function)
            try:
                base = (await releases.alias(ref, name)).head
            except DomainError:
                base = 0
            request = AliasPut(version_id=version, description=description, base_revision=base)
            await releases.put_alias(ref, name, request, self.author)

        async def invoke(function: str, payload: bytes, qualifier: str | None) -> dict[str, Any]:
            started = time.monotonic()
            result = await self.runner.gateway.invoke(self.access, function, payload, qualifier)
            body = result.body[:2048].decode("utf-8", "replace")
            return {
                "status": result.status,
                "error": result.error_type,
                "body": body,
                "duration_ms": round((time.monotonic() - started) * 1000),
            }

        async def build(resource: str, given: dict[str, str]) -> dict[str, Any]:
            return await self._build(self.loaded.spec.resources[resource], given)

        return acts.ServerActions(publish, alias, invoke, build)

    async def _build(self, resource: Resource, given: dict[str, str]) -> dict[str, Any]:
        """``fc3 build``; the resource then deploys the built package."""
        source = self.planned[resource.name].deployable
        async with self.build_turns:
            record = await self.runner.builder.build_resource(
                resource, source.code_sha256 if source else None, given, self.author
            )
        self.built[resource.name] = record["sha256"]
        return record
