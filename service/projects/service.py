"""Projects as the API offers them: submit a revision, read, plan, deploy, history."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from service.accounts.repository import AccountRepository
from service.accounts.service import access_for
from service.cloud.gateway import FcGateway
from service.deploys.engine import DeployEngine
from service.functions.repository import FunctionRepository
from service.functions.service import FunctionService
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from service.models import Project, ProjectDeployment, ProjectRevision, ProjectTarget
from service.models.base import utcnow
from service.projects.actions import describe_actions
from service.projects.builds import (
    BuildSetup,
    ProjectBuilder,
    inspect_package,
    inspected,
    remember,
    unbuilt_dependencies,
)
from service.projects.planner import (
    Loaded,
    ProjectPlan,
    ProjectPlanner,
    bind,
    bounded,
    deploy_layers,
)
from service.projects.repository import ProjectRepository
from service.projects.resources import deployable
from service.projects.runner import ProjectRunner
from service.projects.schemas import ProjectDeployRequest, ProjectPut, ProjectTargetRequest
from service.projects.source import (
    PLACEHOLDER_CONFIG,
    account_alias,
    parse,
    seal_env,
    shown_env,
)
from service.projects.sync import read_function, sync_zip
from service.releases.service import ReleaseService


def _not_found(name: str) -> NotFound:
    return NotFound(f"no project '{name}'", project=name)


def _summary(put: ProjectPut) -> dict[str, Any]:
    """Check the source as far as it can be without an account; what it declares."""
    spec = parse(put.files, put.main, put.env, PLACEHOLDER_CONFIG, None)
    resources = {}
    for resource in spec.resources.values():
        region = resource.props.get("region")
        d = deployable(
            resource,
            None if resource.pending else resource.props,
            put.code,
            region if isinstance(region, str) else PLACEHOLDER_CONFIG["Region"],
            emulator=False,
        )
        resources[resource.name] = {
            "component": resource.component,
            "function": d.function,
            "after": list(d.after),
        }
    return {
        "access": spec.access,
        "resources": resources,
        "layers": deploy_layers(spec),
        "actions": describe_actions(spec),
        "warnings": list(spec.warnings),
        "env_used": sorted(spec.env_used),
    }


class ProjectService:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        gateway: FcGateway,
        lease: timedelta,
        builds: BuildSetup,
    ) -> None:
        # The resources of a project are planned and deployed at once; they take
        # turns at the database, so one request holds one connection at a time.
        self.db = db.one_at_a_time()
        self.box = box
        engine = DeployEngine(self.db, box, gateway, lease)
        self.planner = ProjectPlanner(self.db, box, engine)
        self.runner = ProjectRunner(
            self.planner,
            gateway,
            FunctionService(self.db, box, gateway),
            ReleaseService(self.db, box, gateway, lease),
            lease,
            ProjectBuilder(self.db, builds),
        )

    # -- source --------------------------------------------------------------

    async def put(
        self, put: ProjectPut, author: str | None
    ) -> tuple[Project, ProjectRevision, bool]:
        """The project and its head revision, and whether this call created that revision
        (a source equal to the head's is not a new revision)."""
        summary = _summary(put)
        async with self.db.read() as session:
            functions = FunctionRepository(session)
            for path, sha in put.code.items():
                if not await functions.package_exists(sha):
                    raise InvalidInput(
                        f"code.{path}: no code package {sha}; upload it with "
                        "PUT /v1/code-packages/{sha256} first",
                        field=f"code.{path}",
                    )
        shown = shown_env(put.env)
        try:
            async with self.db.write() as session:
                projects = ProjectRepository(session)
                project = await projects.by_name_for_update(put.name)
                now = utcnow()
                if project is None:
                    if put.base_revision not in (None, 0):
                        raise _not_found(put.name)
                    project = Project(name=put.name, head_revision=0, created_by=author)
                    project.created_at = project.updated_at = now
                    await projects.add(project)
                    await session.flush()
                head = (
                    await projects.revision(project.id, project.head_revision)
                    if project.head_revision
                    else None
                )
                if head is not None and put.base_revision != project.head_revision:
                    raise Conflict(
                        f"base_revision: project '{put.name}' is at revision "
                        f"{project.head_revision}, not {put.base_revision}; fetch it and "
                        "submit your change on top",
                        head_revision=project.head_revision,
                    )
                if head is not None and _same(head, put, shown, self.box):
                    return project, head, False
                revision = ProjectRevision(
                    project_id=project.id,
                    number=project.head_revision + 1,
                    main=put.main,
                    files=dict(put.files),
                    code=dict(put.code),
                    env_sealed=seal_env(self.box, put.env),
                    env_shown=shown,
                    environments=dict(put.environments),
                    summary=summary,
                    message=put.message,
                    created_by=author,
                    created_at=now,
                )
                await projects.add(revision)
                project.head_revision = revision.number
                project.updated_at = now
        except IntegrityError:
            raise AlreadyExists(
                f"project '{put.name}' was changed concurrently; fetch it and submit again"
            ) from None
        return project, revision, True

    async def get(self, name: str) -> tuple[Project, list[ProjectTarget]]:
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            return project, await projects.targets(project.id)

    async def page(self, after: str | None, limit: int) -> list[Project]:
        async with self.db.read() as session:
            return await ProjectRepository(session).page(after, limit)

    async def revisions(self, name: str, after: int | None, limit: int) -> list[ProjectRevision]:
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            return await projects.revisions(project.id, after, limit)

    async def revision(self, name: str, number: int) -> ProjectRevision:
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            found = await projects.revision(project.id, number)
        if found is None:
            raise NotFound(f"project '{name}' has no revision {number}")
        return found

    # -- plan and deploy -------------------------------------------------------

    async def load(self, name: str, request: ProjectTargetRequest) -> Loaded:
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            number = request.revision or project.head_revision
            revision = await projects.revision(project.id, number)
            if revision is None:
                raise InvalidInput(
                    f"revision: project '{name}' has no revision {number}", field="revision"
                )
            access = request.access or revision.summary.get("access") or "default"
            alias = account_alias(revision, str(access))
            account = await AccountRepository(session).by_alias(alias)
            if account is None and access == "default" and access not in revision.environments:
                account = await AccountRepository(session).default()
            if account is None:
                raise InvalidInput(
                    f"access: '{access}' means account '{alias}', which does not exist; map it "
                    "in the project's `environments` or create the account",
                    field="access",
                )
            target = await projects.target(project.id, account.id)
            spec, env = self.planner.resolve(revision, account, request.environment)
            if request.access is None and spec.access and spec.access != access:
                # The env.yaml environment names another access.
                alias = account_alias(revision, spec.access)
                other = await AccountRepository(session).by_alias(alias)
                if other is None and spec.access == "default":
                    other = await AccountRepository(session).default()
                if other is None:
                    raise InvalidInput(
                        f"environment: its access '{spec.access}' means account '{alias}', "
                        "which does not exist",
                        field="environment",
                    )
                if other.id != account.id:
                    account, target = other, await projects.target(project.id, other.id)
                    spec, env = self.planner.resolve(revision, account, request.environment)
            names = [str(r.props.get("functionName")) for r in spec.resources.values()]
            names += [str(e["function"]) for e in (target.resources if target else {}).values()]
            functions = FunctionRepository(session)
            managed = await functions.by_names(account.id, names)
            checksums = {}
            unread: dict[str, bytes] = {}
            for sha in set(revision.code.values()):
                package = await functions.package(sha)
                if package is not None:
                    checksums[sha] = package.checksum
                    if not inspected(sha):  # once per package and process: they never change
                        unread[sha] = await functions.package_data(sha) or b""
        for sha, data in unread.items():
            remember(sha, await asyncio.to_thread(inspect_package, data))
        unbuilt = {sha: found for sha in checksums if (found := unbuilt_dependencies(sha))}
        return Loaded(
            project_name=name,
            revision=revision,
            account=account,
            target=target,
            functions=managed,
            checksums=checksums,
            unbuilt=unbuilt,
            environment=request.environment,
            spec=spec,
            env=env,
        )

    async def plan(self, name: str, request: ProjectTargetRequest) -> ProjectPlan:
        loaded = await self.load(name, request)
        return await self.planner.plan(loaded, request.adopt)

    async def deploy(
        self, name: str, request: ProjectDeployRequest, author: str | None
    ) -> tuple[ProjectDeployment, str]:
        """The deployment and the alias of the account it went to."""
        loaded = await self.load(name, request)
        return await self.runner.deploy(loaded, request, author), loaded.account.alias

    async def sync(self, name: str, access: str | None) -> tuple[str, bytes]:
        """What this project deployed to the account ``access`` means, as FC runs it now:
        one s.yaml with every resource and each code folder (``s sync``'s layout)."""
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            revision = await projects.revision(project.id, project.head_revision)
            alias = str(
                access or (revision.summary.get("access") if revision else None) or "default"
            )
            accounts = AccountRepository(session)
            account = await accounts.by_alias(
                account_alias(revision, alias) if revision else alias
            ) or (await accounts.default() if alias == "default" else None)
            target = await projects.target(project.id, account.id) if account else None
        if account is None or target is None or not target.resources:
            raise NotFound(f"project '{name}' has not deployed anything to account '{alias}'")
        fc_access = access_for(self.box, account)
        resources = sorted(target.resources.items())
        calls = [
            bind(read_function, self.runner.gateway, fc_access, str(e["function"]), account.region)
            for _, e in resources
        ]
        # Keyed by the project's resource names (references between them keep working),
        # in one s.yaml however many there are.
        entries = [
            dataclasses.replace(synced, name=resource)
            for (resource, _), synced in zip(resources, await bounded(calls), strict=True)
        ]
        data = await asyncio.to_thread(sync_zip, entries, "s.yaml", project=name, access=alias)
        return f"{name}-{account.alias}.zip", data

    async def deployments(
        self, name: str, after: str | None, limit: int
    ) -> list[ProjectDeployment]:
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            return await projects.deployments(project.id, after, limit)

    async def deployment(self, name: str, deployment_id: str) -> tuple[ProjectDeployment, str]:
        """One deployment of the project, and the alias of the account it went to."""
        async with self.db.read() as session:
            projects = ProjectRepository(session)
            project = await projects.by_name(name)
            if project is None:
                raise _not_found(name)
            row = await projects.deployment(project.id, deployment_id)
            account = await AccountRepository(session).get(row.account_id) if row else None
        if row is None:
            raise NotFound(f"project '{name}' has no deployment {deployment_id}")
        return row, account.alias if account else ""


def _same(head: ProjectRevision, put: ProjectPut, shown: dict[str, str], box: SecretBox) -> bool:
    from service.projects.source import open_env

    return (
        head.files == put.files
        and head.main == put.main
        and head.code == put.code
        and head.environments == put.environments
        and open_env(box, head.env_sealed) == put.env
        and head.env_shown == shown
    )
