"""ROS intrinsic functions inside a template: resolved where the answer is known, else reported.

Funcraft templates are ROS templates, so a value may be ``!Ref Name`` (or the long form
``{Ref: Name}``), ``!GetAtt``, ``!Sub``, ``Fn::Join`` and so on. An s.yaml has no such
functions. ``Ref`` to a parameter with a ``Default`` and to the pseudo parameters for
region and account resolve; anything else is removed from its container and reported,
so no mapper downstream ever sees an unresolved intrinsic.
"""

from __future__ import annotations

from typing import Any

from service.projects.fun2s.context import ACCOUNT, REGION, Context, Path
from service.projects.fun2s.loader import Intrinsic

_PSEUDO = {"ALIYUN::Region": REGION, "ALIYUN::AccountId": ACCOUNT}
_DROP = object()


def resolve(ctx: Context, value: Any, path: Path) -> Any:
    """``value`` with every intrinsic resolved or removed (and reported)."""
    result = _resolve(ctx, value, path)
    return None if result is _DROP else result


def _resolve(ctx: Context, value: Any, path: Path) -> Any:
    call = _as_call(value)
    if call is not None:
        return _evaluate(ctx, call[0], call[1], path)
    if isinstance(value, dict):
        kept: dict[Any, Any] = {}
        for key, item in value.items():
            resolved = _resolve(ctx, item, (*path, str(key)))
            if resolved is not _DROP:
                kept[key] = resolved
        return kept
    if isinstance(value, list):
        items = (_resolve(ctx, item, (*path, str(i))) for i, item in enumerate(value))
        return [item for item in items if item is not _DROP]
    return value


def _as_call(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, Intrinsic):
        name = value.tag.removeprefix("!")
        return ("Ref" if name == "Ref" else f"Fn::{name}", value.value)
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return (key, argument)
    return None


def _evaluate(ctx: Context, function: str, argument: Any, path: Path) -> Any:
    if function == "Ref" and isinstance(argument, str):
        if argument in _PSEUDO:
            return _PSEUDO[argument]
        parameter = ctx.parameters.get(argument)
        if isinstance(parameter, dict) and "Default" in parameter:
            default = parameter["Default"]
            ctx.warn(path, f"Ref {argument} resolved to its parameter default {default!r}")
            return default
        ctx.drop(path, f"Ref {argument}: no parameter default to resolve it to outside ROS")
        return _DROP
    ctx.drop(path, f"{function} {argument!r}: ROS intrinsic functions have no s.yaml equivalent")
    return _DROP
