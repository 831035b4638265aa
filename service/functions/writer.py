"""The FC calls that make a function's sub-resources match a target state.

Shared by a deploy's push (service.deploys.push) and a removal (which targets
no sub-resources at all). Every call FC accepts is noted, with its request id,
so a caller whose later call fails can say exactly what landed.

- Triggers: deleted, updated, then created; a trigger whose type or event
  source changed is replaced (FC cannot update those).
- Configs: Put when they differ, Delete when the target has none.
- Custom domain: the domain keeps the other functions' routes; this
  function's route is added, changed or taken out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.functions import subresources as sub
from service.functions.live import Live

# Trigger fields UpdateTrigger cannot change: a change means delete and create.
_TRIGGER_IDENTITY = ("triggerType", "sourceArn")
_TRIGGER_UPDATABLE = ("description", "invocationRole", "qualifier", "triggerConfig")


@dataclass(frozen=True)
class _ConfigCalls:
    """How one kind of function config is written: its action name, put and delete."""

    action: str
    put: Callable[[FcGateway, FcAccess, str, str, dict[str, Any]], Awaitable[str | None]]
    delete: Callable[[FcGateway, FcAccess, str, str], Awaitable[str | None]]


async def _put_async(
    g: FcGateway, a: FcAccess, name: str, q: str, body: dict[str, Any]
) -> str | None:
    return (await g.put_async_invoke_config(a, name, q, body)).request_id


async def _put_provision(
    g: FcGateway, a: FcAccess, name: str, q: str, body: dict[str, Any]
) -> str | None:
    return (await g.put_provision_config(a, name, q, body)).request_id


async def _put_concurrency(
    g: FcGateway, a: FcAccess, name: str, _q: str, body: dict[str, Any]
) -> str | None:
    return (await g.put_concurrency_config(a, name, int(body["reservedConcurrency"]))).request_id


async def _delete_concurrency(g: FcGateway, a: FcAccess, name: str, _q: str) -> str | None:
    return await g.delete_concurrency_config(a, name)


CONFIGS: dict[str, _ConfigCalls] = {
    sub.ASYNC_INVOKE: _ConfigCalls(
        "AsyncInvokeConfig", _put_async, FcGateway.delete_async_invoke_config
    ),
    sub.PROVISION: _ConfigCalls(
        "ProvisionConfig", _put_provision, FcGateway.delete_provision_config
    ),
    sub.CONCURRENCY: _ConfigCalls("ConcurrencyConfig", _put_concurrency, _delete_concurrency),
}


class FcWriter:
    """Writes one function's sub-resources; ``applied`` and ``request_ids`` say what FC took."""

    def __init__(self, gateway: FcGateway, access: FcAccess, name: str) -> None:
        self.gateway = gateway
        self.access = access
        self.name = name
        self.applied: list[str] = []  # the calls FC accepted, in order
        self.request_ids: list[str] = []

    def accepted(self, action: str, *request_ids: str | None) -> None:
        self.request_ids.extend(rid for rid in request_ids if rid)
        self.applied.append(action)

    async def subresources(
        self, target: dict[str, Any], live: dict[str, Any], remote: Live | None
    ) -> None:
        """Triggers, then configs, then the custom domain (fc3's order: nothing points at
        something missing). ``live``: the state now (``{}`` for a new function)."""
        await self.triggers(target.get(sub.TRIGGERS) or {}, live.get(sub.TRIGGERS) or {})
        for key in CONFIGS:
            await self.config(key, target.get(key), live.get(key))
        await self.domain(target.get(sub.DOMAIN), live.get(sub.DOMAIN), remote)

    async def triggers(self, want: dict[str, Any], have: dict[str, Any]) -> None:
        replaced = {
            name
            for name in want.keys() & have.keys()
            if any(want[name].get(k) != have[name].get(k) for k in _TRIGGER_IDENTITY)
        }
        for name in sorted((have.keys() - want.keys()) | replaced):
            rid = await self.gateway.delete_trigger(self.access, self.name, name)
            self.accepted(f"DeleteTrigger {name}", rid)
        for name in sorted(want.keys() & have.keys() - replaced):
            if want[name] != have[name]:
                body = sub.trigger_wire(name, want[name])
                update = {k: body[k] for k in _TRIGGER_UPDATABLE if k in body}
                result = await self.gateway.update_trigger(self.access, self.name, name, update)
                self.accepted(f"UpdateTrigger {name}", result.request_id)
        for name in sorted((want.keys() - have.keys()) | replaced):
            created = await self.gateway.create_trigger(
                self.access, self.name, sub.trigger_wire(name, want[name])
            )
            self.accepted(f"CreateTrigger {name}", created.request_id)

    async def config(
        self, key: str, want: dict[str, Any] | None, have: dict[str, Any] | None
    ) -> None:
        if want == have:
            return
        calls = CONFIGS[key]
        moved = (
            want is not None and have is not None and want.get("qualifier") != have.get("qualifier")
        )
        if have is not None and (want is None or moved):
            qualifier, _ = sub.config_wire(have)
            rid = await calls.delete(self.gateway, self.access, self.name, qualifier)
            self.accepted(f"Delete{calls.action}", rid)
        if want is not None:
            qualifier, body = sub.config_wire(want)
            rid = await calls.put(self.gateway, self.access, self.name, qualifier, body)
            self.accepted(f"Put{calls.action}", rid)

    async def domain(
        self, want: dict[str, Any] | None, have: dict[str, Any] | None, remote: Live | None
    ) -> None:
        if want == have:
            return
        if have is not None and (want is None or want["domainName"] != have["domainName"]):
            # Take this function's route off the domain it leaves; the others stay.
            old = remote.domain if remote else None
            body = {"routeConfig": {"routes": sub.domain_routes(None, self.name, old)}}
            result = await self.gateway.update_custom_domain(self.access, have["domainName"], body)
            self.accepted(f"UpdateCustomDomain {have['domainName']}", result.request_id)
        if want is None:
            return
        name = want["domainName"]
        existing = await self.gateway.get_custom_domain(self.access, name)
        body = {
            **sub.domain_wire(want),
            "routeConfig": {"routes": sub.domain_routes(want, self.name, existing)},
        }
        if existing is None:
            created = await self.gateway.create_custom_domain(self.access, body)
            self.accepted(f"CreateCustomDomain {name}", created.request_id)
        else:
            body.pop("domainName", None)
            updated = await self.gateway.update_custom_domain(self.access, name, body)
            self.accepted(f"UpdateCustomDomain {name}", updated.request_id)
