from __future__ import annotations

from typing import TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.cloud.gateway import FcGateway
from service.kit.crypto import SecretBox
from service.kit.settings import Settings


class WorkerContext(TypedDict):
    """What every job receives from the worker (arq's ctx)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secret_box: SecretBox
    gateway: FcGateway
