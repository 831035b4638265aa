from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, FunctionPath, function_path
from service.kit.names import fc_name
from service.kit.openapi import created, problems
from service.kit.strict_route import StrictRoute
from service.models.deployment import Strategy
from service.releases.schemas import (
    AliasBase,
    AliasOut,
    AliasPut,
    AliasRevisionOut,
    AliasStrategy,
    ReleaseConflictProblem,
    VersionOut,
    VersionPublish,
)
from service.releases.service import ReleaseService
from service.state import app_state

router = APIRouter(
    route_class=StrictRoute, tags=["releases"], responses=problems(401, 403, 404, 422)
)

AliasName = Annotated[str, fc_name(Path, "The alias name.", max_length=128)]
VersionIdPath = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[0-9]+$", description="A version id.")
]
ALIAS = FUNCTION_PREFIX + "/aliases/{alias}"


async def _service(request: Request) -> ReleaseService:
    state = app_state(request)
    lease = timedelta(seconds=state.settings.deploy_lease_seconds)
    return ReleaseService(state.db, state.secret_box, state.gateway, lease)


Releases = Annotated[ReleaseService, Depends(_service)]


@router.post(
    FUNCTION_PREFIX + "/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionOut,
    responses=problems(409, 502, conflict=ReleaseConflictProblem),
)
async def publish_version(
    ref: FunctionPath,
    body: VersionPublish,
    principal: DeployPrincipal,
    releases: Releases,
    response: Response,
) -> VersionOut:
    """Publish a version of what fcplane applied (409 `drift_conflict` when FC runs
    something else, `revision_conflict` while a deploy is in progress)."""
    version = await releases.publish(ref, body.description, principal.name)
    created(response, f"{function_path(ref)}/versions/{version.version_id}")
    return VersionOut.model_validate(version)


@router.get(FUNCTION_PREFIX + "/versions/{version_id}", response_model=VersionOut)
async def get_version(
    ref: FunctionPath, version_id: VersionIdPath, _: ReadPrincipal, releases: Releases
) -> VersionOut:
    """A version published through fcplane."""
    return VersionOut.model_validate(await releases.version(ref, version_id))


@router.get(FUNCTION_PREFIX + "/versions", response_model=list[VersionOut])
async def list_versions(
    ref: FunctionPath, _: ReadPrincipal, releases: Releases
) -> list[VersionOut]:
    """Versions published through fcplane, newest first."""
    return [VersionOut.model_validate(v) for v in await releases.versions(ref)]


@router.get(FUNCTION_PREFIX + "/aliases", response_model=list[AliasOut])
async def list_aliases(ref: FunctionPath, _: ReadPrincipal, releases: Releases) -> list[AliasOut]:
    """The function's aliases managed by fcplane, by name."""
    return [AliasOut.model_validate(a) for a in await releases.aliases(ref)]


@router.get(ALIAS, response_model=AliasOut)
async def get_alias(
    ref: FunctionPath, alias: AliasName, _: ReadPrincipal, releases: Releases
) -> AliasOut:
    return AliasOut.model_validate(await releases.alias(ref, alias))


@router.put(
    ALIAS, response_model=AliasOut, responses=problems(409, 502, conflict=ReleaseConflictProblem)
)
async def put_alias(
    ref: FunctionPath,
    alias: AliasName,
    body: AliasPut,
    principal: DeployPrincipal,
    releases: Releases,
) -> AliasOut:
    """Create or change an alias's routing (a canary with `additional_version_weight`), on
    top of its revision `base_revision`: 409 `revision_conflict` when another change came
    first, `drift_conflict` when it was changed in FC (unless `use-local`)."""
    return AliasOut.model_validate(await releases.put_alias(ref, alias, body, principal.name))


@router.delete(
    ALIAS, response_model=AliasOut, responses=problems(409, 502, conflict=ReleaseConflictProblem)
)
async def delete_alias(
    ref: FunctionPath,
    alias: AliasName,
    principal: DeployPrincipal,
    releases: Releases,
    base_revision: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="The alias revision you expect.")
    ],
    strategy: Annotated[
        AliasStrategy,
        Query(
            description="`use-local` deletes it even when it was changed in FC (`use-remote` "
            "and `merge`: 422)."
        ),
    ] = Strategy.FAIL,
) -> AliasOut:
    """Delete the alias in FC; its history stays, and a later change re-creates it."""
    request = AliasBase(base_revision=base_revision, strategy=strategy)
    return AliasOut.model_validate(await releases.delete_alias(ref, alias, request, principal.name))


@router.post(
    ALIAS + "/rollback",
    response_model=AliasOut,
    responses=problems(409, 502, conflict=ReleaseConflictProblem),
)
async def rollback_alias(
    ref: FunctionPath,
    alias: AliasName,
    body: AliasBase,
    principal: DeployPrincipal,
    releases: Releases,
) -> AliasOut:
    """Route the alias as it was before its current revision, in one call."""
    return AliasOut.model_validate(await releases.rollback_alias(ref, alias, body, principal.name))


@router.get(ALIAS + "/revisions", response_model=list[AliasRevisionOut])
async def list_alias_revisions(
    ref: FunctionPath, alias: AliasName, _: ReadPrincipal, releases: Releases
) -> list[AliasRevisionOut]:
    """Who routed the alias how, and when; newest first."""
    return [AliasRevisionOut.model_validate(r) for r in await releases.revisions(ref, alias)]
