from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.codezip import ZipLimits
from service.kit.errors import NotFound, PayloadTooLarge
from service.kit.openapi import problems
from service.kit.strict_route import StrictRoute
from service.packages.service import PackageService
from service.state import app_state

router = APIRouter(
    route_class=StrictRoute,
    prefix="/v1/code-packages",
    tags=["code packages"],
    responses=problems(401, 403, 422),
)

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the zip.")]


def _service(request: Request) -> PackageService:
    state = app_state(request)
    limits = ZipLimits(max_compressed_bytes=state.settings.code_package_max_bytes)
    return PackageService(state.db, limits)


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
    sha256: Sha256Path, request: Request, principal: DeployPrincipal, response: Response
) -> None:
    """Upload a code zip under its sha256 (201 stored, 200 already present)."""
    packages = _service(request)
    if await packages.exists(sha256):
        response.status_code = status.HTTP_200_OK
        return
    data = await _read_limited(request, packages.limits.max_compressed_bytes)
    if not await packages.store(sha256, data, principal.name):
        response.status_code = status.HTTP_200_OK


@router.head("/{sha256}", responses=problems(404))
async def head_package(sha256: Sha256Path, request: Request, _: ReadPrincipal) -> None:
    """200 when the package is stored, 404 otherwise."""
    if not await _service(request).exists(sha256):
        raise NotFound(f"no code package {sha256}")
