"""Step 2 of a deploy: make FC run the target state, then read back what it runs.

A new function is one CreateFunction (tags included). An existing one is
UpdateFunction, then UntagResources and TagResources: UpdateFunction carries
no tags, FC changes them through its tag API, which names the function by its
ARN. A tags-only change skips UpdateFunction. Every call's request id goes on
the deployment; when a call fails after earlier ones were accepted, the error
says which landed (``fc_applied``), so the record never claims what FC did not
do and the next plan shows what it did.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from service.cloud.errors import FcServerError
from service.cloud.gateway import FcGateway
from service.deploys.recorder import note_partly_applied
from service.functions.normalize import resets
from service.functions.repository import FunctionRepository
from service.functions.state import CODE, config_of, live_state, wire_config
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
        self.applied: list[str] = []  # the calls of this deploy that FC accepted

    async def run(self, target: dict[str, Any]) -> dict[str, Any]:
        """The live state FC reports after the push (its read-back)."""
        config = wire_config(target)
        live = self.prepared.live
        if live is None or target.get(CODE) != live.get(CODE):
            config["code"] = await self._code_input(target)
        try:
            if live is None:
                created = await self.gateway.create_function(
                    self.access, {**config, "functionName": self.name}
                )
                self._accepted("CreateFunction", created.request_id)
            else:
                await self._update(target, live, config)
            readback = await self.gateway.get_function(self.access, self.name)
        except DomainError as error:
            if self.applied:
                note_partly_applied(error, self.applied)
            raise
        self._record_ids(readback.request_id)
        return live_state(readback.body)

    def _record_ids(self, *request_ids: str | None) -> None:
        self.deployment.fc_request_ids = [
            *self.deployment.fc_request_ids,
            *(rid for rid in request_ids if rid),
        ]

    def _accepted(self, action: str, *request_ids: str | None) -> None:
        self._record_ids(*request_ids)
        self.applied.append(action)

    async def _update(
        self, target: dict[str, Any], live: dict[str, Any], config: dict[str, Any]
    ) -> None:
        arn = self.prepared.live_arn
        want: dict[str, str] = target.get("tags") or {}
        have: dict[str, str] = live.get("tags") or {}
        # A tags-only change needs no UpdateFunction; any other deploy (even one
        # that changes nothing) calls it.
        if want == have or _without_tags(target) != _without_tags(live):
            config.pop("tags", None)
            # UpdateFunction leaves absent fields alone: blocks the target no
            # longer has must be reset explicitly or they would stay live.
            config.update(resets(config_of(target), config_of(live)))
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


def _without_tags(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "tags"}
