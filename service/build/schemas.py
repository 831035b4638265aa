"""The ``build`` job kind's params and result, as the API documents them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# FC's layer names: 1-64 letters, digits, "_" or "-", not starting with a digit or "-".
LAYER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"


class BuildParams(BaseModel):
    """Install a source package's dependencies (requirements.txt, package.json) for an FC
    runtime, in a sandbox, into a new code package or an FC layer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_sha256": "0" * 64, "runtime": "python3.10", "output": "code"}]
        },
    )

    source_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the source zip, uploaded first with `PUT /v1/code-packages/{sha}`.",
    )
    runtime: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z0-9.]*$",
        description="FC runtime to build for: `python3.x`, or `nodejs*` where Node.js is "
        "installed on the workers.",
        examples=["python3.10"],
    )
    output: Literal["code", "layer"] = Field(
        "code",
        description="`code`: the source plus its dependencies, stored as a new code package. "
        "`layer`: only the dependencies, published as an FC layer version.",
    )
    no_cache: bool = Field(False, description="Build again even if the same build is cached.")
    layer_name: str | None = Field(
        None,
        pattern=LAYER_NAME_PATTERN,
        description="The FC layer to publish to (output `layer` only); default "
        "`fcplane-<runtime>` (dots removed).",
    )
    timeout_s: int | None = Field(
        None,
        ge=1,
        description="Wall time of the build; at most FCPLANE_BUILD_TIMEOUT_SECONDS (the default).",
    )
    memory_mb: int | None = Field(
        None,
        ge=128,
        description="Memory of the build sandbox; at most FCPLANE_BUILD_MEMORY_MB (the default).",
    )

    @field_validator("layer_name")
    @classmethod
    def _layer_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("output") != "layer":
            raise ValueError("only for output 'layer'")
        return value

    def layer(self) -> str:
        return self.layer_name or "fcplane-" + self.runtime.replace(".", "")


class BuiltPackage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    version: str | None = None
    size: int = Field(description="Installed bytes.")
    source: str | None = Field(
        None, description="Where it came from: `index`, `sdist`, `project`, `registry`, ..."
    )


class BuildManifest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    runtime: str
    output: Literal["code", "layer"]
    requirements: list[str] = Field(description="The requirements as fcplane read them.")
    packages: list[BuiltPackage] = Field(description="Every installed package.")
    installed_size: int = Field(description="Bytes of the installed dependencies.")
    files: int = Field(description="Entries of the package.")
    warnings: list[str]
    duration_s: float = Field(description="Wall time of the build that produced the package.")
    dependencies_reused: bool = Field(
        description="The installed dependencies came from the cache (only the zip was made)."
    )
    cache_key: str
    log: str = Field("", description="The tail of the installer's output.")

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> BuildManifest:
        return cls.model_validate({**manifest, "installed_size": manifest.get("size", 0)})


class PublishedLayer(BaseModel):
    layer_name: str
    version: int
    arn: str = Field(description="`layerVersionArn`: what a function's `layers` lists.")
    reused: bool = Field(
        description="An identical layer version was already published and is used instead."
    )


class BuildResult(BaseModel):
    sha256: str = Field(description="The built package, stored as a code package under it.")
    size: int = Field(description="Bytes of the built zip.")
    cached: bool = Field(description="Served from the build cache: no installer ran.")
    manifest: BuildManifest
    layer: PublishedLayer | None = Field(None, description="Output `layer`: the layer version.")
