"""An alias's routing in one canonical shape, whether a request or FC describes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.functions.normalize import canonical


def alias_state(body: Mapping[str, Any]) -> dict[str, Any]:
    """``{versionId, additionalVersionWeight, description}`` from GetAlias (or a request in
    FC's names); weights of 0 route nothing and are left out."""
    weights = {
        str(version): float(weight)
        for version, weight in (body.get("additionalVersionWeight") or {}).items()
        if weight
    }
    state = {
        "versionId": str(body.get("versionId") or ""),
        "additionalVersionWeight": weights,
        "description": str(body.get("description") or ""),
    }
    return dict(canonical(state))


def alias_wire(name: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """CreateAlias's body (UpdateAlias takes it without the name)."""
    return {
        "aliasName": name,
        "versionId": state["versionId"],
        "additionalVersionWeight": dict(state["additionalVersionWeight"]),
        "description": state["description"],
    }
