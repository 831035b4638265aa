"""Step 5 of a deploy: make FC run the target resource, then read back what it runs.

The order is fc3's, so a sub-resource never points at something missing:
function → triggers → async-invoke config → provision and concurrency configs
→ custom domain. Unlike fc3, a sub-resource the target no longer has is
deleted (fc3 leaves removed triggers and async configs behind).

- The function: CreateFunction (tags included) when new; otherwise
  UpdateFunction, then UntagResources and TagResources (UpdateFunction carries
  no tags; FC's tag API names the function by its ARN). A tags-only change
  skips UpdateFunction.
- Triggers: deleted, updated, then created; a trigger whose type or event
  source changed is replaced (FC cannot update those).
- Configs: Put when they differ, Delete when the target has none.
- Custom domain: the domain keeps the other functions' routes; this
  function's route is added, changed or taken out.

Every call's request id goes on the deployment. When a call fails after
earlier ones were accepted, the error says which landed (``fc_applied``), so
the record never claims what FC did not do and the next plan shows the rest.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from service.cloud.errors import FcServerError
from service.cloud.gateway import FcGateway
from service.deploys.recorder import note_partly_applied
from service.functions import subresources as sub
from service.functions.live import Live, LiveReader
from service.functions.normalize import resets
from service.functions.repository import FunctionRepository
from service.functions.state import CODE, function_config_of, wire_config
from service.kit.db import Database
from service.kit.errors import DomainError, InvalidInput
from service.models import Deployment

if TYPE_CHECKING:
    from service.deploys.engine import Prepared

# Trigger fields UpdateTrigger cannot change: a change means delete and create.
_TRIGGER_IDENTITY = ("triggerType", "sourceArn")


class FcPush:
    def __init__(
        self,
        gateway: FcGateway,
        db: Database,
        prepared: Prepared,
        deployment: Deployment,
    ) -> None:
        self.gateway = gateway
        self.db = db
        self.prepared = prepared
        self.deployment = deployment
        self.access = prepared.loaded.access
        self.name = prepared.function.name
        self.applied: list[str] = []  # the calls of this deploy that FC accepted

    async def run(self, target: dict[str, Any]) -> Live:
        """What FC runs after the push (its read-back)."""
        remote = self.prepared.remote
        live: dict[str, Any] = remote.state if remote else {}
        try:
            await self._function(target, remote)
            await self._triggers(target.get(sub.TRIGGERS) or {}, live.get(sub.TRIGGERS) or {})
            await self._config(sub.ASYNC_INVOKE, target, live)
            await self._config(sub.PROVISION, target, live)
            await self._config(sub.CONCURRENCY, target, live)
            await self._domain(target.get(sub.DOMAIN), live.get(sub.DOMAIN), remote)
            readback = await LiveReader(self.gateway).read(self.access, self.name, [target])
        except DomainError as error:
            if self.applied:
                note_partly_applied(error, self.applied)
            raise
        if readback is None:
            raise FcServerError(f"GetFunction: '{self.name}' is gone right after the deploy")
        self.deployment.fc_request_ids = [
            *self.deployment.fc_request_ids,
            *([readback.request_id] if readback.request_id else []),
        ]
        return readback

    def _accepted(self, action: str, *request_ids: str | None) -> None:
        self.deployment.fc_request_ids = [
            *self.deployment.fc_request_ids,
            *(rid for rid in request_ids if rid),
        ]
        self.applied.append(action)

    # -- the function ----------------------------------------------------------

    async def _function(self, target: dict[str, Any], remote: Live | None) -> None:
        config = wire_config(target)
        if remote is None or target.get(CODE) != remote.state.get(CODE):
            config["code"] = await self._code_input(target)
        if remote is None:
            created = await self.gateway.create_function(
                self.access, {**config, "functionName": self.name}
            )
            self._accepted("CreateFunction", created.request_id)
        else:
            await self._update(target, remote, config)

    async def _update(self, target: dict[str, Any], remote: Live, config: dict[str, Any]) -> None:
        arn = remote.arn
        live = remote.state
        want: dict[str, str] = target.get("tags") or {}
        have: dict[str, str] = live.get("tags") or {}
        changed = _without_tags(target) != _without_tags(live)
        # A change of tags or sub-resources only needs no UpdateFunction; any
        # other deploy (even one that changes nothing at all) calls it.
        if changed or target == live:
            config.pop("tags", None)
            # UpdateFunction leaves absent fields alone: blocks the target no
            # longer has must be reset explicitly or they would stay live.
            config.update(resets(function_config_of(target), function_config_of(live)))
            updated = await self.gateway.update_function(self.access, self.name, config)
            self._accepted("UpdateFunction", updated.request_id)
            arn = str(updated.body.get("functionArn") or "") or arn
        if want == have:
            return
        if not arn:
            raise FcServerError(
                f"GetFunction: Function Compute returned no functionArn for '{self.name}', "
                "which its tag API needs"
            )
        # Removals first: a function holds a limited number of tags, and a
        # renamed key must not need room for both names at once.
        removed = sorted(have.keys() - want.keys())
        if removed:
            ids = await self.gateway.untag_function(self.access, arn, removed)
            self._accepted("UntagResources", *ids)
        added = {k: v for k, v in want.items() if have.get(k) != v}
        if added:
            ids = await self.gateway.tag_function(self.access, arn, added)
            self._accepted("TagResources", *ids)

    async def _code_input(self, target: dict[str, Any]) -> dict[str, Any]:
        checksum = target.get(CODE)
        data = None
        if checksum:
            async with self.db.read() as session:
                data = await FunctionRepository(session).data_by_checksum(str(checksum))
        if data is None:
            raise InvalidInput(
                "code_sha256: the code to deploy is not stored in fcplane; upload the package "
                "and deploy with its code_sha256",
                field="code_sha256",
            )
        return {"zipFile": base64.b64encode(data).decode(), "checksum": str(checksum)}

    # -- sub-resources -----------------------------------------------------------

    async def _triggers(self, want: dict[str, Any], have: dict[str, Any]) -> None:
        replaced = {
            name
            for name in want.keys() & have.keys()
            if any(want[name].get(k) != have[name].get(k) for k in _TRIGGER_IDENTITY)
        }
        for name in sorted((have.keys() - want.keys()) | replaced):
            rid = await self.gateway.delete_trigger(self.access, self.name, name)
            self._accepted(f"DeleteTrigger {name}", rid)
        for name in sorted(want.keys() & have.keys() - replaced):
            if want[name] != have[name]:
                body = sub.trigger_wire(name, want[name])
                fields = ("description", "invocationRole", "qualifier", "triggerConfig")
                update: dict[str, Any] = {k: body[k] for k in fields if k in body}
                result = await self.gateway.update_trigger(self.access, self.name, name, update)
                self._accepted(f"UpdateTrigger {name}", result.request_id)
        for name in sorted((want.keys() - have.keys()) | replaced):
            created = await self.gateway.create_trigger(
                self.access, self.name, sub.trigger_wire(name, want[name])
            )
            self._accepted(f"CreateTrigger {name}", created.request_id)

    async def _config(self, key: str, target: dict[str, Any], live: dict[str, Any]) -> None:
        want, have = target.get(key), live.get(key)
        if want == have:
            return
        action = {
            sub.ASYNC_INVOKE: "AsyncInvokeConfig",
            sub.PROVISION: "ProvisionConfig",
            sub.CONCURRENCY: "ConcurrencyConfig",
        }[key]
        moved = (
            want is not None and have is not None and want.get("qualifier") != have.get("qualifier")
        )
        if have is not None and (want is None or moved):
            rid = await self._delete_config(key, have)
            self._accepted(f"Delete{action}", rid)
        if want is not None:
            result = await self._put_config(key, want)
            self._accepted(f"Put{action}", result)

    async def _delete_config(self, key: str, have: dict[str, Any]) -> str | None:
        qualifier, _ = sub.config_wire(have)
        if key == sub.ASYNC_INVOKE:
            return await self.gateway.delete_async_invoke_config(self.access, self.name, qualifier)
        if key == sub.PROVISION:
            return await self.gateway.delete_provision_config(self.access, self.name, qualifier)
        return await self.gateway.delete_concurrency_config(self.access, self.name)

    async def _put_config(self, key: str, want: dict[str, Any]) -> str | None:
        qualifier, body = sub.config_wire(want)
        if key == sub.ASYNC_INVOKE:
            put = self.gateway.put_async_invoke_config(self.access, self.name, qualifier, body)
        elif key == sub.PROVISION:
            put = self.gateway.put_provision_config(self.access, self.name, qualifier, body)
        else:
            put = self.gateway.put_concurrency_config(
                self.access, self.name, int(body["reservedConcurrency"])
            )
        return (await put).request_id

    async def _domain(
        self, want: dict[str, Any] | None, have: dict[str, Any] | None, remote: Live | None
    ) -> None:
        if want == have:
            return
        if have is not None and (want is None or want["domainName"] != have["domainName"]):
            # Take this function's route off the domain it leaves; the others stay.
            old = remote.domain if remote else None
            body = {"routeConfig": {"routes": sub.domain_routes(None, self.name, old)}}
            result = await self.gateway.update_custom_domain(self.access, have["domainName"], body)
            self._accepted(f"UpdateCustomDomain {have['domainName']}", result.request_id)
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
            self._accepted(f"CreateCustomDomain {name}", created.request_id)
        else:
            body.pop("domainName", None)
            updated = await self.gateway.update_custom_domain(self.access, name, body)
            self._accepted(f"UpdateCustomDomain {name}", updated.request_id)


def _without_tags(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in function_config_of(state).items() if k != "tags"} | {
        CODE: state.get(CODE)
    }
