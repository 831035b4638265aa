from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.models.function import DriftStatus
from service.models.release import AliasSource

VersionId = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$", description="A version id.")
]


class VersionPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field("", max_length=256)


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version_id: str
    description: str
    from_revision: int = Field(description="The function revision FC ran when it was published.")
    created_by: str | None
    created_at: datetime


class AliasPut(BaseModel):
    """The alias's full routing (not a patch), on top of its revision `base_revision`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version_id": "3",
                    "additional_version_weight": {"4": 0.1},
                    "description": "10% canary of version 4",
                    "base_revision": 2,
                }
            ]
        },
    )

    version_id: VersionId
    additional_version_weight: dict[VersionId, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict,
        description="Canary: a share of the traffic (0 to 1) for another version each.",
    )
    description: str = Field("", max_length=256)
    base_revision: int = Field(
        ge=0,
        le=2**31 - 1,
        description="The alias revision this change started from (0 for a new alias).",
    )
    strategy: Literal["fail", "use-local"] = Field(
        "fail",
        description="`fail`: 409 when the alias was changed in FC since fcplane set it; "
        "`use-local`: overwrite that change.",
    )
    message: str | None = Field(None, max_length=2000)


class AliasBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: int = Field(ge=0, le=2**31 - 1, description="The alias revision you expect.")
    strategy: Literal["fail", "use-local"] = "fail"
    message: str | None = Field(None, max_length=2000)


class AliasOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    revision: int = Field(validation_alias="head", description="The alias's own revision.")
    version_id: str | None
    additional_version_weight: dict[str, float]
    description: str | None
    deleted: bool = Field(description="Deleted through fcplane (its history stays).")
    drift_status: DriftStatus
    created_by: str | None
    created_at: datetime


class AliasRevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    version_id: str | None
    additional_version_weight: dict[str, float]
    source: AliasSource
    message: str | None
    created_by: str | None
    created_at: datetime
