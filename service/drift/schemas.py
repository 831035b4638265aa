from __future__ import annotations

from datetime import datetime

from pydantic import AliasPath, BaseModel, ConfigDict, Field

from service.functions.schemas import Change
from service.models.drift import DriftEventStatus, Resolution


class DriftCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account: str = Field(validation_alias=AliasPath("ref", "account"))
    function: str = Field(validation_alias=AliasPath("ref", "name"))
    drifted: bool
    changes: list[Change] = Field(description="`base`: what fcplane applied; `value`: FC's.")
    event_id: int | None = None
    interrupted_deployment: str | None = Field(
        None, description="A deployment that pushed to FC but died before recording it."
    )
    deploying: str | None = Field(
        None,
        description="A deployment holding the function right now: its change is not drift, "
        "so the live state was not judged (check again when it has finished).",
    )


class DriftScanOut(BaseModel):
    checked: int
    drifted: list[str] = Field(description="The drifted functions, as `account/name`.")
    failed: dict[str, str] = Field(
        description="Functions that could not be checked (`account/name`), with why."
    )


class DriftEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account: str = Field(validation_alias=AliasPath("function", "account", "alias"))
    function: str = Field(validation_alias=AliasPath("function", "name"))
    alias: str | None = Field(
        None, description="Set when the drift is an alias's (its routing changed in FC)."
    )
    status: DriftEventStatus
    changes: list[Change] = Field(description="`base`: what fcplane applied; `value`: FC's.")
    deployment_id: str | None = Field(
        description="A deployment that died after pushing to FC, when its change is the drift."
    )
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: Resolution | None = Field(
        description="in-sync (FC went back), deploy, use-remote or rollback (a deployment "
        "replaced or adopted the drifted state)."
    )
    resolved_by_deployment_id: str | None = Field(
        description="The deployment that ended the drift (deploy, use-remote, rollback)."
    )
