"""Function facts the kinds need from FC itself (not in fcplane's database): triggers."""

from __future__ import annotations

import logging
from typing import Any

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.kit.errors import DomainError

log = logging.getLogger(__name__)


async def trigger_facts(gateway: FcGateway, access: FcAccess, name: str) -> dict[str, Any]:
    """``triggers`` and, when the function has one, ``http_trigger_url``.

    A failed lookup leaves ``http_trigger_url`` out and says why in
    ``triggers_error``; kinds that need a trigger then refuse with that reason.
    """
    try:
        triggers = await gateway.list_triggers(access, name)
    except DomainError as exc:
        log.info("triggers of %s unavailable: %s", name, exc.code)
        return {"triggers_error": f"{exc.code}: {exc.detail}"}
    facts: dict[str, Any] = {
        "triggers": [
            {
                "name": t.get("triggerName"),
                "type": t.get("triggerType"),
                "qualifier": t.get("qualifier"),
            }
            for t in triggers
        ]
    }
    for trigger in triggers:
        http = trigger.get("httpTrigger") or {}
        if trigger.get("triggerType") == "http" and http.get("urlInternet"):
            facts["http_trigger_url"] = str(http["urlInternet"])
            break
    return facts
