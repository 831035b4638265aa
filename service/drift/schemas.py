from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class DriftCheckOut(BaseModel):
    function: str
    drifted: bool
    changes: list[dict[str, Any]]
    event_id: int | None = None
    interrupted_deployment: str | None = Field(
        None, description="A deployment that pushed to FC but died before recording it."
    )


class DriftScanOut(BaseModel):
    checked: int
    drifted: list[str]
    failed: dict[str, str]


class DriftEventOut(BaseModel):
    id: int
    function: str
    status: str
    changes: list[dict[str, Any]]
    deployment_id: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: str | None
