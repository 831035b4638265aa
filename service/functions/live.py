"""Reading a whole function from FC: its config and every sub-resource, as one state.

One GetFunction, then at once: ListTriggers, the async-invoke and provision
configs (under the qualifiers the states in play name, LATEST by default),
GetConcurrencyConfig, and the custom domains (a scan of many functions lists
them once per account and passes them in).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions import subresources as sub
from service.functions.state import live_state


@dataclass(frozen=True)
class Live:
    """What FC runs: the state, the function's ARN (FC's tag API names it so) and the live
    custom domain this function routes through (its other routes must survive a deploy)."""

    state: dict[str, Any]
    arn: str | None
    domain: dict[str, Any] | None
    request_id: str | None = None  # GetFunction's


def qualifiers(key: str, states: Iterable[Mapping[str, Any] | None]) -> list[str]:
    """The qualifiers under which the states in play configure ``key``, LATEST included."""
    found = [sub.LATEST]
    for state in states:
        config = (state or {}).get(key)
        if isinstance(config, Mapping) and config.get("qualifier") not in found:
            found.append(str(config.get("qualifier")))
    return found


class LiveReader:
    def __init__(self, gateway: FcGateway) -> None:
        self.gateway = gateway

    async def read(
        self,
        access: FcAccess,
        name: str,
        states: Iterable[Mapping[str, Any] | None] = (),
        domains: list[dict[str, Any]] | None = None,
    ) -> Live | None:
        """The function as FC runs it; None when FC has no such function.

        ``states``: the desired and applied states, whose qualifiers say where
        to look for configs; ``domains``: every custom domain of the account,
        when the caller has listed them already.
        """
        try:
            function = await self.gateway.get_function(access, name)
        except FcNotFound:
            return None
        states = list(states)
        triggers, async_config, provision, concurrency, domain = await asyncio.gather(
            self.gateway.list_triggers(access, name),
            self._first(
                lambda q: self.gateway.get_async_invoke_config(access, name, q),
                qualifiers(sub.ASYNC_INVOKE, states),
            ),
            self._first(
                lambda q: self.gateway.get_provision_config(access, name, q),
                qualifiers(sub.PROVISION, states),
            ),
            self.gateway.get_concurrency_config(access, name),
            self._domain(access, name, domains),
        )
        parts: dict[str, Any] = {sub.TRIGGERS: sub.triggers(triggers)}
        for key, value in (
            (sub.ASYNC_INVOKE, sub.async_invoke_config(async_config)),
            (sub.PROVISION, sub.provision_config(provision)),
            (sub.CONCURRENCY, sub.concurrency_config(concurrency)),
            (sub.DOMAIN, sub.live_custom_domain(domain, name) if domain else None),
        ):
            if value is not None:
                parts[key] = value
        arn = function.body.get("functionArn")
        return Live(
            live_state(function.body, parts), str(arn) if arn else None, domain, function.request_id
        )

    async def _first(self, get: Any, qualifiers: list[str]) -> dict[str, Any] | None:
        """The config under the first qualifier that has one, with that qualifier."""
        for qualifier in qualifiers:
            body: dict[str, Any] | None = await get(qualifier)
            if body is not None:
                return {**body, "qualifier": qualifier}
        return None

    async def _domain(
        self, access: FcAccess, name: str, domains: list[dict[str, Any]] | None
    ) -> dict[str, Any] | None:
        listed = domains if domains is not None else await self.gateway.list_custom_domains(access)
        for domain in listed:
            routes = (domain.get("routeConfig") or {}).get("routes") or []
            if any(isinstance(r, Mapping) and r.get("functionName") == name for r in routes):
                return domain
        return None
