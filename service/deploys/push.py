"""Step 5 of a deploy: make FC run the target resource, then read back what it runs.

The order is fc3's, so a sub-resource never points at something missing:
function → triggers → async-invoke config → provision and concurrency configs
→ custom domain. Unlike fc3, a sub-resource the target no longer has is
deleted (fc3 leaves removed triggers and async configs behind).

- The function: CreateFunction (tags included) when new; otherwise
  UpdateFunction, then UntagResources and TagResources (UpdateFunction carries
  no tags; FC's tag API names the function by its ARN). A tags-only change
  skips UpdateFunction.
- Sub-resources: as service.functions.writer writes them.

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
from service.functions.live import Live, LiveReader
from service.functions.normalize import resets
from service.functions.repository import FunctionRepository
from service.functions.state import CODE, function_config_of, wire_config
from service.functions.writer import FcWriter
from service.kit.db import Database
from service.kit.errors import DomainError, InvalidInput
from service.models import Deployment

if TYPE_CHECKING:
    from service.deploys.engine import Prepared


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
        self.writer = FcWriter(gateway, self.access, self.name)

    async def run(self, target: dict[str, Any]) -> Live:
        """What FC runs after the push (its read-back)."""
        remote = self.prepared.remote
        live: dict[str, Any] = remote.state if remote else {}
        try:
            await self._function(target, remote)
            await self.writer.subresources(target, live, remote)
            readback = await LiveReader(self.gateway).read(self.access, self.name, [target])
        except DomainError as error:
            if self.writer.applied:
                note_partly_applied(error, self.writer.applied)
            raise
        finally:
            self.deployment.fc_request_ids = [
                *self.deployment.fc_request_ids,
                *self.writer.request_ids,
            ]
        if readback is None:
            raise FcServerError(f"GetFunction: '{self.name}' is gone right after the deploy")
        self.deployment.fc_request_ids = [
            *self.deployment.fc_request_ids,
            *([readback.request_id] if readback.request_id else []),
        ]
        return readback

    # -- the function ----------------------------------------------------------

    async def _function(self, target: dict[str, Any], remote: Live | None) -> None:
        config = wire_config(target)
        if remote is None or target.get(CODE) != remote.state.get(CODE):
            config["code"] = await self._code_input(target)
        if remote is None:
            created = await self.gateway.create_function(
                self.access, {**config, "functionName": self.name}
            )
            self.writer.accepted("CreateFunction", created.request_id)
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
            self.writer.accepted("UpdateFunction", updated.request_id)
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
            self.writer.accepted("UntagResources", *ids)
        added = {k: v for k, v in want.items() if have.get(k) != v}
        if added:
            ids = await self.gateway.tag_function(self.access, arn, added)
            self.writer.accepted("TagResources", *ids)

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


def _without_tags(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in function_config_of(state).items() if k != "tags"} | {
        CODE: state.get(CODE)
    }
