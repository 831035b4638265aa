"""What the application's lifespan owns, and typed access to it from requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from service.auth.cache import TokenCache
from service.cloud.gateway import FcGateway
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret_box: SecretBox
    redis: Redis | None
    migration_heads: tuple[str, ...]
    token_cache: TokenCache
    gateway: FcGateway
    # How the embedded FC emulator runs function code (None: no embedded emulator).
    emulator_sandbox: str | None = None


def app_state(request: Request) -> AppState:
    """The lifespan's state, for dependencies on every request's path.

    They take the ``Request`` and call this rather than depend on ``StateDep``:
    FastAPI solves a dependency's whole sub-graph again at each place it is
    used, even when its value is cached, and that bookkeeping (not the lookup)
    was a large share of a small request's cost.
    """
    state: AppState = request.app.state.fcplane
    return state


async def get_state(request: Request) -> AppState:
    # async on purpose: FastAPI runs plain-def dependencies in a thread pool,
    # a thread hop per request for a dictionary lookup.
    return app_state(request)


StateDep = Annotated[AppState, Depends(get_state)]
