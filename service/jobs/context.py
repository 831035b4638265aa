from __future__ import annotations

from typing import TypedDict

from service.cloud.gateway import FcGateway
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.settings import Settings


class WorkerContext(TypedDict):
    """What every job receives from the worker (arq's ctx)."""

    settings: Settings
    db: Database
    secret_box: SecretBox
    gateway: FcGateway
