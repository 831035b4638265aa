from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from service.auth.dependencies import ReadPrincipal
from service.functions.paths import FUNCTION_PREFIX, FunctionPath
from service.kit.openapi import ZIP_CONTENT, problems, zip_media_type
from service.kit.strict_route import StrictRoute
from service.projects.sync import SyncService
from service.state import app_state

router = APIRouter(route_class=StrictRoute, tags=["sync"], responses=problems(401, 403, 422))

# An s.yaml's `name` and `access`: plain words, which any yaml reader takes as they are.
YamlProject = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The yaml's `name`; default: the function's name.",
    ),
]
YamlAccess = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The yaml's `access` (a Serverless Devs key alias); default: the "
        "account's alias.",
    ),
]

ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The synced function: `<region>_<fn>.yaml` and `<region>_<fn>/`.",
        "content": ZIP_CONTENT,
        "headers": {
            "Content-Disposition": {
                "description": '`attachment; filename="<region>_<fn>.zip"`',
                "schema": {"type": "string"},
            }
        },
    }
}


async def _service(request: Request) -> SyncService:
    state = app_state(request)
    return SyncService(state.db, state.secret_box, state.gateway)


Sync = Annotated[SyncService, Depends(_service)]


@router.get(
    FUNCTION_PREFIX + "/sync",
    response_class=Response,
    responses={**ZIP_RESPONSE, **problems(404, 409, 413, 502)},
)
async def sync_function(
    ref: FunctionPath,
    _: ReadPrincipal,
    sync: Sync,
    request: Request,
    project: YamlProject = None,
    access: YamlAccess = None,
) -> Response:
    """The function as FC runs it, as Serverless Devs' `s sync` writes it, in one zip.

    Any function of the account: managed by fcplane or not (it is read from FC
    with the account's credentials). The zip holds:

    - `<region>_<fn>.yaml`: an fc3 s.yaml (`edition: 3.0.0`, `name`, `access`, one
      resource `<fn>` with `component: fc3`) whose `props` are the function's
      config in fc3 prop names, its triggers (`triggerConfig` as objects), async
      invoke, provision and concurrency configs and custom-domain route; no
      read-only fields (functionArn, codeChecksum, state, ...);
    - `<region>_<fn>/`: the function's code, extracted (not for custom-container
      functions). The yaml's `code` is `./<region>_<fn>`, relative where fc3
      writes an absolute path, so the folder deploys from wherever it is unzipped.

    The props, without `region` and `code`, are a deploy config that plans to no
    change. 404 for an unknown account or a function FC does not have; 409
    `unsafe_code_package` when FC's code zip cannot be extracted safely.
    """
    found = await sync.function_archive(ref.account, ref.name, project, access)
    return Response(
        found.data,
        media_type=zip_media_type(request),
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )
