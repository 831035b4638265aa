"""A function's comparable state: the whole fc3 resource, canonical, plus its code.

A state is the normalized function config (normalize.py), the function's
sub-resources under their props names (subresources.py: ``triggers`` keyed by
name, ``asyncInvokeConfig``, ``provisionConfig``, ``concurrencyConfig``,
``customDomain``) and the code package's checksum at ``/code``. Revisions,
applied states, live states and plans are all states, so one diff covers the
whole resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.functions import subresources
from service.functions.normalize import normalize, tags_to_wire
from service.functions.subresources import SUBRESOURCES

CODE = "code"


def state_of(props: Mapping[str, Any], code_checksum: str | None) -> dict[str, Any]:
    """fc3 props (the function's config and its sub-resources) and a code checksum."""
    function = {k: v for k, v in props.items() if k not in SUBRESOURCES}
    state = normalize(function)
    state.update(subresources.of_props(props))
    state[CODE] = code_checksum
    return dict(sorted(state.items()))


def live_state(
    function_body: Mapping[str, Any], parts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """GetFunction's body, with the sub-resources FC reports (already canonical), as a state."""
    checksum = function_body.get("codeChecksum")
    state = normalize(function_body)
    state.update(parts or {})
    state[CODE] = str(checksum) if checksum is not None else None
    return dict(sorted(state.items()))


def config_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The resource part of a state (everything but the code)."""
    return {k: v for k, v in state.items() if k != CODE}


def function_config_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The function's own config in a state (no code, no sub-resources)."""
    return {k: v for k, v in state.items() if k != CODE and k not in SUBRESOURCES}


def wire_config(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state's function config in the shape CreateFunction/UpdateFunction take."""
    config = function_config_of(state)
    if isinstance(config.get("tags"), dict):
        config["tags"] = tags_to_wire(config["tags"])
    return config


def props_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state's resource in fc3's props shape (what a deploy request's config takes)."""
    props = function_config_of(state)
    props.update(subresources.as_props(state))
    return props
