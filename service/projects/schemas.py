"""Request and response bodies of the project API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from service.deploys.schemas import PlanOut
from service.functions.schemas import Sha256
from service.kit.openapi import ErrorDetail, Problem, absent_when_none
from service.models.deployment import Strategy
from service.models.project import ProjectDeploymentStatus

ProjectName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
        description="A letter, then letters, digits, `_` or `-`; at most 64 characters.",
    ),
]
Alias = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
FilePath = Annotated[str, Field(min_length=1, max_length=255)]

# Enough for a project's YAML files; code travels as packages, never in here. One
# file at its limit still fits a request body (FCPLANE_MAX_BODY_BYTES, 1 MiB) even
# when every character is JSON-escaped, so a too-long file gets its 422, not a 413.
MAX_FILES = 64
MAX_FILE_CHARS = 64 * 1024

EXAMPLE_SYAML = """edition: 3.0.0
name: shop
access: default
vars:
  region: cn-hangzhou
resources:
  backend:
    component: fc3
    props:
      region: ${vars.region}
      functionName: shop-backend
      runtime: python3.10
      handler: index.handler
      code: ./backend
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig: {authType: anonymous, methods: [GET, POST]}
  frontend:
    component: fc3
    props:
      region: ${vars.region}
      functionName: shop-frontend
      runtime: python3.10
      handler: index.handler
      code: ./frontend
      environmentVariables:
        BACKEND_URL: ${resources.backend.output.url.system_url}
"""


class ProjectPut(BaseModel):
    """A project's source: the s.yaml, the files it reads, its code packages."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "shop",
                    "files": {"s.yaml": EXAMPLE_SYAML},
                    "code": {
                        "./backend": "9f86d081884c7d659a2feaa0c55ad015"
                        "a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        "./frontend": "60303ae22b998861bce3b28f33eec1be"
                        "758a213c86c93c076dbe9f558c11c752",
                    },
                    "environments": {"default": "test", "prod": "prod"},
                    "base_revision": 0,
                }
            ]
        },
    )

    name: ProjectName
    files: dict[FilePath, Annotated[str, Field(max_length=MAX_FILE_CHARS)]] = Field(
        description="Path (relative to the project directory) -> text: the s.yaml and every "
        "file it uses (env.yaml, extend/template files, `${file()}` targets).",
        min_length=1,
        max_length=MAX_FILES,
    )
    main: FilePath = Field("s.yaml", description="Which of `files` is the s.yaml.")
    code: dict[FilePath, Sha256] = Field(
        default_factory=dict,
        description="Each resource's `code` directory as the s.yaml writes it -> the sha256 of "
        "its zip, uploaded first with PUT /v1/code-packages/{sha256}.",
    )
    env: dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=4096)]] = (
        Field(
            default_factory=dict,
            max_length=256,
            description="The variables `${env('X')}` reads (the caller's environment, passed "
            "explicitly). Stored encrypted; shown redacted where they look secret.",
        )
    )
    environments: dict[Alias, Alias] = Field(
        default_factory=dict,
        description="Which fcplane account each `access` alias of the s.yaml means, e.g. "
        '`{"default": "test", "prod": "prod"}`. An alias not listed means the account of the '
        "same name.",
    )
    base_revision: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="The project revision this change started from (0 or omitted for a new "
        "project); 409 when the project moved on since.",
    )
    message: str | None = Field(None, max_length=2000)

    @field_validator("files", "code")
    @classmethod
    def _relative_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            if path.startswith("/") or ".." in path.replace("\\", "/").split("/"):
                raise ValueError(f"{path!r}: paths are relative to the project, without '..'")
        return value


class ActionOut(BaseModel):
    hook: str = Field(description="`pre`, `success`, `fail` or `complete`, around `command`.")
    command: str
    kind: str = Field(description="`run`, `component` or `plugin`.")
    value: str
    resource: str | None = Field(description="None: a project-level action.")
    runs_on: str = Field(
        description="`server`: fcplane runs it during the deploy (an fc3 command it "
        "implements); `client`: never run by the server — the CLI runs it on the caller's "
        "machine."
    )


class ProjectRevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    main: str
    files: dict[str, str]
    code: dict[str, str]
    env: dict[str, str] = Field(description="The `env` values, redacted where they look secret.")
    environments: dict[str, str]
    summary: dict[str, Any] = Field(
        description="What the submit-time check found: `resources` (name -> component, "
        "function name), `layers` (deploy order), `actions`, `warnings`."
    )
    message: str | None
    created_by: str | None
    created_at: datetime


class TargetOut(BaseModel):
    account: str
    revision: int = Field(description="The project revision last deployed to this account.")
    resources: dict[str, dict[str, Any]] = Field(
        description="Resource -> `{function, revision}`: what the last deploy left in this "
        "account (the base of the next one)."
    )
    updated_at: datetime


class ProjectOut(BaseModel):
    name: str
    head_revision: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    targets: list[TargetOut]


class ProjectTargetRequest(BaseModel):
    """Where and what to plan or deploy."""

    model_config = ConfigDict(extra="forbid")

    revision: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Project revision; default the head."
    )
    access: Alias | None = Field(
        None,
        description="The s.yaml `access` to use (Serverless Devs' `-a`); default the one the "
        "s.yaml (or the env.yaml environment) names. `environments` maps it to an account.",
    )
    environment: Alias | None = Field(
        None, description="The env.yaml environment to apply (Serverless Devs' `--env`)."
    )
    adopt: bool = Field(
        False,
        description="Take over functions that already exist (live in FC, or managed by fcplane "
        "outside this project): their current state becomes the base.",
    )


class ProjectDeployRequest(ProjectTargetRequest):
    base_revision: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="The project revision last deployed to this account that this deploy "
        "started from (see the plan's `target_revision`); 409 when another project deploy "
        "landed since. Omitted: not checked (each resource's own check still holds).",
    )
    strategy: Strategy = Field(
        Strategy.FAIL,
        description="For every resource changed since its last deploy (another deploy, a "
        "console edit): `fail` refuses the whole deploy with 409 and the project plan; "
        "`use-local`, `use-remote`, `merge` as for a function deploy.",
    )
    strategies: dict[str, Strategy] = Field(
        default_factory=dict, description="Per resource name: overrides `strategy`."
    )
    message: str | None = Field(None, max_length=2000)
    allow_missing_handler: bool = Field(
        False,
        description="Deploy functions whose code package lacks the file the handler names "
        "(code built elsewhere); otherwise such a resource fails with `handler_missing` "
        "(status 422) and the resources deployed after it are skipped.",
    )


class ResourcePlanOut(BaseModel):
    resource: str
    component: str
    function: str | None
    state: str = Field(
        description="`update` (managed by this project), `create` (new to fcplane), "
        "`adopt` (exists, taken over), `delete` (gone from the s.yaml: removed on deploy), "
        "`pending` (props wait for outputs of `after`)."
    )
    stale: bool = Field(description="Changed since this project last deployed it.")
    after: list[str] = Field(description="Resources deployed before this one.")
    base_revision: int = Field(
        description="The function revision the plan starts from (what this project last "
        "deployed; 0: none)."
    )
    plan: PlanOut | None = Field(
        description="The function plan (local/remote changes, conflicts, text, patches); "
        "null while the resource is `pending` or being deleted."
    )
    reason: str | SkipJsonSchema[None] = absent_when_none(
        "Why the resource cannot be planned as asked."
    )
    warnings: list[str] | SkipJsonSchema[None] = absent_when_none(
        "What may not work as deployed: e.g. a requirements.txt / package.json whose "
        "dependencies the package does not carry, without an `fc3 build` action."
    )


class ProjectPlanOut(BaseModel):
    project: str
    revision: int
    account: str
    environment: str | None
    target_revision: int = Field(description="The project revision last deployed there (0: none).")
    layers: list[list[str]] = Field(description="Deploy order; each layer runs in parallel.")
    resources: list[ResourcePlanOut]
    actions: list[ActionOut]
    notes: list[str] = Field(
        description="What the caller must know: e.g. `run`/`plugin` actions the server does "
        "not execute."
    )
    warnings: list[str] = Field(
        description="The s.yaml's warnings, then each resource's (`<resource>: ...`)."
    )
    stale: list[str] = Field(description="Resources changed since their last deploy.")
    text: str


class ProjectConflictProblem(Problem):
    """A project deploy refused with 409 `project_conflict`: `base_revision` is not what
    is deployed to the account, or resources changed since this project last deployed
    them and their strategy is `fail` (they are listed in `refused`). The project plan
    says what changed; retry with `strategy` (or per resource in `strategies`).
    `project_deploying` (another deploy of the project to the account runs) carries
    neither."""

    plan: ProjectPlanOut | SkipJsonSchema[None] = absent_when_none(
        "The project plan as it stands now."
    )
    refused: list[str] | SkipJsonSchema[None] = absent_when_none(
        "The resources changed since their last deploy whose strategy is `fail`."
    )
    deployment_id: str | SkipJsonSchema[None] = absent_when_none(
        "The project deployment recorded as refused."
    )


class ResourceResultOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    resource: str
    function: str | None
    status: str = Field(
        description="`deployed`, `unchanged`, `deleted`, `failed`, `skipped` (a resource it "
        "depends on failed) or `refused` (conflict)."
    )
    revision: int | SkipJsonSchema[None] = absent_when_none(
        "The function's revision after the deploy (unchanged for a failure)."
    )
    deployment_id: str | SkipJsonSchema[None] = absent_when_none("The function deployment.")
    error: ErrorDetail | SkipJsonSchema[None] = absent_when_none("Why it did not land.")


class BuiltPackageOut(BaseModel):
    name: str | None
    version: str | None


class BuildRecordOut(BaseModel):
    """What an `fc3 build` action made of the resource's code package."""

    model_config = ConfigDict(extra="allow")

    source_sha256: str = Field(description="The uploaded code package that was built.")
    sha256: str = Field(description="The built code package: what the resource deployed.")
    cached: bool = Field(description="Served from the build cache: neither pip nor npm ran.")
    runtime: str
    packages: list[BuiltPackageOut] = Field(description="The dependencies installed.")
    warnings: list[str]
    size: int = Field(description="Bytes of the built package.")


class ActionRecordOut(ActionOut):
    """A server-side action as it ran during the deploy."""

    model_config = ConfigDict(extra="allow")

    function: str | None
    status: str = Field(description="`succeeded` or `failed`.")
    version_id: str | SkipJsonSchema[None] = absent_when_none("`version publish`: the version.")
    alias: str | SkipJsonSchema[None] = absent_when_none("`alias publish`: the alias.")
    invocation: dict[str, Any] | SkipJsonSchema[None] = absent_when_none("`invoke`: FC's answer.")
    build: BuildRecordOut | SkipJsonSchema[None] = absent_when_none(
        "`build`: the package built (the resource deployed it instead of its source)."
    )
    error: ErrorDetail | SkipJsonSchema[None] = absent_when_none("Why it failed.")


class ProjectDeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project: str
    account: str
    revision: int
    environment: str | None
    status: ProjectDeploymentStatus
    strategy: Strategy
    resolved: dict[str, Any] = Field(description="Resolved props per resource, secrets redacted.")
    results: list[ResourceResultOut] = Field(description="What happened to each resource.")
    actions: list[ActionRecordOut] = Field(description="Server-side actions that ran.")
    error: ErrorDetail | None = Field(description="Why the deploy failed or was refused.")
    created_by: str | None
    started_at: datetime
    finished_at: datetime | None


class Fun2sRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(max_length=MAX_FILE_CHARS, description="The Funcraft template.yml.")
    project: ProjectName | None = Field(None, description="The s.yaml's `name`.")
    access: Alias = "default"


class UnmappedOut(BaseModel):
    path: str
    reason: str


class Fun2sOut(BaseModel):
    syaml: str = Field(description="The fc3 s.yaml (edition 3.0.0).")
    unmapped: list[UnmappedOut] = Field(description="What could not be converted, and why.")
    warnings: list[str]
