"""Funcraft ``template.yml`` → fc3 ``s.yaml`` (Serverless Devs 3.x), native to FC 3.0.

The reference route upstream is fc-transform (template → fc 2.0 s.yaml) followed by
fc3's ``s2tos3``; its output still carries 2.0 shapes FC 3.0 refuses (no
``sourceArn`` on several event types, CDN triggers as 2.0 types, RDS triggers
FC 3.0 has no such type for, dropped service settings). This converter goes straight to FC 3.0
and reports, as ``unmapped``, everything it cannot carry.
"""

from __future__ import annotations

from typing import Any

from service.projects.fun2s.context import Context, Path
from service.projects.fun2s.document import build_document, dump
from service.projects.fun2s.domains import CUSTOM_DOMAIN, attach_domain
from service.projects.fun2s.flatten import SERVICE, Function, flatten_service, nas_region
from service.projects.fun2s.infrastructure import declared_topics, report_resource
from service.projects.fun2s.intrinsics import resolve
from service.projects.fun2s.loader import load_template
from service.projects.fun2s.schemas import Conversion, TemplateError

TRANSFORM = "Aliyun::Serverless-2018-04-03"
FORMAT_VERSION = "2015-09-01"
DEFAULT_PROJECT = "transform_fun"  # fc-transform's name, kept so both outputs line up
DEFAULT_REGION = "cn-hangzhou"
_TOP_LEVEL = ("ROSTemplateFormatVersion", "Transform", "Parameters", "Resources")


def convert_template(
    text: str,
    *,
    filename: str = "template.yml",
    project: str | None = None,
    access: str = "default",
    region: str | None = None,
) -> Conversion:
    """Convert one template; TemplateError when it is not a (readable) Funcraft template."""
    loaded = load_template(text, filename)
    template = loaded.data
    resources = _resources(template, filename, loaded.lines)
    ctx = Context(region=region or DEFAULT_REGION, topics=declared_topics(resources))
    _region(ctx, region, resources)
    _top_level(ctx, template)
    functions: list[Function] = []
    domains: list[tuple[str, dict[str, Any], Path]] = []
    for key, resource in resources.items():
        path: Path = ("Resources", str(key))
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if kind == SERVICE:
            functions += flatten_service(ctx, str(key), resolve(ctx, resource, path), path)
        elif kind == CUSTOM_DOMAIN:
            domains.append((str(key), resolve(ctx, resource, path), path))
        else:
            report_resource(ctx, str(key), resource, path)
    for key, resource, path in domains:
        attach_domain(ctx, key, resource, path, functions)
    if not functions:
        ctx.warn(("Resources",), "no functions to convert: the s.yaml has no resources")
    _dotfun_warning(ctx, functions)
    document = build_document(project or DEFAULT_PROJECT, access, ctx.region, functions)
    syaml = dump(document, filename, len(ctx.unmapped))
    return Conversion(syaml, document, ctx.unmapped, ctx.warnings)


def _resources(template: dict[str, Any], filename: str, lines: dict[str, int]) -> dict[str, Any]:
    transform = template.get("Transform")
    if "Resources" not in template:
        hint = " (this looks like an s.yaml)" if "edition" in template else ""
        raise TemplateError(f"no Resources: not a Funcraft template{hint}", file=filename)
    resources = template["Resources"]
    if not isinstance(resources, dict):
        raise TemplateError(
            "Resources is not a mapping", file=filename, line=lines.get("Resources")
        )
    if transform is not None and transform != TRANSFORM:
        raise TemplateError(
            f"Transform {transform!r} is not {TRANSFORM!r}",
            file=filename,
            line=lines.get("Transform"),
        )
    serverless = any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("Aliyun::Serverless::")
        for r in resources.values()
    )
    if transform is None and not serverless:
        raise TemplateError(
            "no Transform and no Aliyun::Serverless resources: not a Funcraft template",
            file=filename,
        )
    return resources


def _region(ctx: Context, given: str | None, resources: dict[str, Any]) -> None:
    if given is not None:
        return
    hints = {
        found
        for r in resources.values()
        if isinstance(r, dict)
        and r.get("Type") == SERVICE
        and (found := nas_region(r.get("Properties"))) is not None
    }
    if len(hints) == 1:
        ctx.region = hints.pop()
        source = "the region of the NAS mount target"
    else:
        source = "a default"
    ctx.warn(
        ("vars", "region"),
        f"a Funcraft template names no region: {ctx.region} is {source}; set vars.region",
    )


def _top_level(ctx: Context, template: dict[str, Any]) -> None:
    version = template.get("ROSTemplateFormatVersion")
    if version is not None and str(version) != FORMAT_VERSION:
        ctx.warn(("ROSTemplateFormatVersion",), f"{version!r}, expected {FORMAT_VERSION!r}")
    if "Transform" not in template:
        ctx.warn(("Transform",), f"missing; read as {TRANSFORM}")
    parameters = template.get("Parameters")
    if isinstance(parameters, dict):
        ctx.parameters = parameters
    if parameters is not None:
        ctx.drop(
            ("Parameters",),
            "ROS parameters have no s.yaml equivalent; a Ref to one with a Default takes it",
        )
    for key in template:
        if key not in _TOP_LEVEL:
            ctx.drop((str(key),), "not part of a Funcraft template that an s.yaml can carry")


def _dotfun_warning(ctx: Context, functions: list[Function]) -> None:
    # fun deploy appended LD_LIBRARY_PATH, PATH, NODE_PATH, PYTHONUSERBASE entries under
    # /code/.fun/ for dependencies `fun install` put there; fc3 adds none of them.
    if any("code" in f.props for f in functions):
        ctx.warn(
            ("Resources",),
            "fun deploy added LD_LIBRARY_PATH/PATH/NODE_PATH/PYTHONUSERBASE entries for "
            "/code/.fun/ (fun install); fc3 does not: add them to environmentVariables if the "
            "code relies on .fun/",
        )
