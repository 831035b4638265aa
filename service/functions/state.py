"""A function's comparable state: normalized config + code checksum at ``/code``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.functions.normalize import normalize, tags_to_wire

CODE = "code"


def state_of(config: Mapping[str, Any], code_checksum: str | None) -> dict[str, Any]:
    state = normalize(config)
    state[CODE] = code_checksum
    return state


def live_state(function_body: Mapping[str, Any]) -> dict[str, Any]:
    """GetFunction's body as a state."""
    checksum = function_body.get("codeChecksum")
    return state_of(function_body, str(checksum) if checksum is not None else None)


def config_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The FC config part of a state (everything but the code)."""
    return {k: v for k, v in state.items() if k != CODE}


def wire_config(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state's config in the shape CreateFunction/UpdateFunction take."""
    config = config_of(state)
    if isinstance(config.get("tags"), dict):
        config["tags"] = tags_to_wire(config["tags"])
    return config
