from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from service.functions.schemas import Change
from service.kit.openapi import Problem, absent_when_none
from service.models.deployment import Strategy
from service.models.function import DriftStatus
from service.models.release import AliasSource

VersionId = Annotated[
    str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$", description="A version id.")
]


def _fail_or_use_local(strategy: Strategy) -> Strategy:
    if strategy not in (Strategy.FAIL, Strategy.USE_LOCAL):
        raise ValueError("an alias change takes the strategy `fail` or `use-local`")
    return strategy


# The deploy strategies an alias change can follow (there is nothing to merge or adopt).
AliasStrategy = Annotated[Strategy, AfterValidator(_fail_or_use_local)]


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
    strategy: AliasStrategy = Field(
        Strategy.FAIL,
        description="`fail`: 409 when the alias was changed in FC since fcplane set it; "
        "`use-local`: overwrite that change (`use-remote` and `merge`: 422).",
    )
    message: str | None = Field(None, max_length=2000)


class AliasBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: int = Field(ge=0, le=2**31 - 1, description="The alias revision you expect.")
    strategy: AliasStrategy = Field(
        Strategy.FAIL,
        description="`use-local`: even when the alias was changed in FC (`use-remote` and "
        "`merge`: 422).",
    )
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


class ReleaseConflictProblem(Problem):
    """A 409 about a version or an alias: `revision_conflict` (the alias moved on since
    `base_revision`, or a deploy holds the function) or `drift_conflict` (FC differs from
    what fcplane applied: the function, for a publish; the alias, for a change)."""

    head_revision: int | SkipJsonSchema[None] = absent_when_none("The alias's revision now.")
    deploying: str | SkipJsonSchema[None] = absent_when_none(
        "What holds the function (retry after `Retry-After`)."
    )
    local_changes: list[Change] | SkipJsonSchema[None] = absent_when_none(
        "What this request would change, from what fcplane applied."
    )
    remote_changes: list[Change] | SkipJsonSchema[None] = absent_when_none(
        "What FC has, from what fcplane applied."
    )
