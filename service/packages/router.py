from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.codezip import ZipLimits
from service.functions.repository import FunctionRepository
from service.kit.errors import NotFound, PayloadTooLarge
from service.kit.openapi import problems
from service.kit.state import SessionDep, StateDep
from service.packages.service import PackageService

router = APIRouter(
    prefix="/v1/code-packages", tags=["code packages"], responses=problems(401, 403, 422)
)

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the zip.")]


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"code package is larger than the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"code package is larger than the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


@router.put(
    "/{sha256}",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Already stored"}, **problems(413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_package(
    sha256: Sha256Path,
    request: Request,
    principal: DeployPrincipal,
    session: SessionDep,
    state: StateDep,
    response: Response,
) -> None:
    """Upload a code zip under its sha256 (201 stored, 200 already present)."""
    limits = ZipLimits(max_compressed_bytes=state.settings.code_package_max_bytes)
    service = PackageService(FunctionRepository(session), limits)
    if await service.exists(sha256):
        response.status_code = status.HTTP_200_OK
        return
    data = await _read_limited(request, limits.max_compressed_bytes)
    if not await service.store(sha256, data, principal.name):
        response.status_code = status.HTTP_200_OK


@router.head("/{sha256}", responses=problems(404))
async def head_package(sha256: Sha256Path, _: ReadPrincipal, session: SessionDep) -> None:
    """200 when the package is stored, 404 otherwise."""
    if not await PackageService(FunctionRepository(session), ZipLimits()).exists(sha256):
        raise NotFound(f"no code package {sha256}")
