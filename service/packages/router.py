from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from service.auth.dependencies import DeployPrincipal, ReadPrincipal
from service.functions.codezip import ZipLimits
from service.kit.errors import NotFound, PayloadTooLarge
from service.kit.openapi import created, problems
from service.kit.strict_route import StrictRoute
from service.packages.schemas import CodePackageOut
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
    response_model=CodePackageOut,
    responses={200: {"description": "Already stored", "model": CodePackageOut}, **problems(413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The zip's bytes, as `application/octet-stream` or `application/zip`.",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_code_package(
    sha256: Sha256Path, request: Request, principal: DeployPrincipal, response: Response
) -> CodePackageOut:
    """Upload a code zip under its sha256 (201 stored, 200 already present).

    The body is the zip itself (`application/octet-stream` or `application/zip`);
    422 when its sha256 differs from the path or it is not a safe zip, 413 when
    it is larger than `FCPLANE_CODE_PACKAGE_MAX_BYTES`.
    """
    packages = _service(request)
    found = await packages.stored(sha256)
    is_new = False
    if found is None:
        data = await _read_limited(request, packages.limits.max_compressed_bytes)
        found, is_new = await packages.store(sha256, data, principal.name)
    if is_new:
        created(response, f"/v1/code-packages/{sha256}")
    else:
        response.status_code = status.HTTP_200_OK
    return found


@router.get("/{sha256}", response_model=CodePackageOut, responses=problems(404))
async def get_code_package(
    sha256: Sha256Path, request: Request, _: ReadPrincipal
) -> CodePackageOut:
    """A stored package's size and checksum."""
    found = await _service(request).stored(sha256)
    if found is None:
        raise NotFound(f"no code package {sha256}")
    return found


@router.head(
    "/{sha256}",
    response_class=Response,
    responses={200: {"description": "Stored"}, **problems(404)},
)
async def check_code_package(sha256: Sha256Path, request: Request, _: ReadPrincipal) -> None:
    """200 when the package is stored, 404 otherwise."""
    if await _service(request).stored(sha256) is None:
        raise NotFound(f"no code package {sha256}")
