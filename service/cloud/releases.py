"""FC calls for a function's releases: published versions and the aliases that route
traffic to them (``additionalVersionWeight`` for canaries)."""

from __future__ import annotations

from typing import Any

from alibabacloud_fc20230330 import models as fc

from service.cloud.access import FcAccess
from service.cloud.client import FcClient, FcResult


class ReleaseCalls(FcClient):
    async def publish_version(self, access: FcAccess, name: str, description: str) -> FcResult:
        request = fc.PublishFunctionVersionRequest(
            body=fc.PublishVersionInput(description=description)
        )
        return await self._body(
            access,
            "PublishFunctionVersion",
            lambda c: c.publish_function_version_async(name, request),
        )

    async def get_alias(self, access: FcAccess, name: str, alias: str) -> dict[str, Any] | None:
        return await self._optional(access, "GetAlias", lambda c: c.get_alias_async(name, alias))

    async def list_aliases(self, access: FcAccess, name: str) -> list[dict[str, Any]]:
        return await self._listed(
            access,
            "ListAliases",
            "aliases",
            lambda c, token: c.list_aliases_async(
                name, fc.ListAliasesRequest(limit=100, next_token=token)
            ),
        )

    async def create_alias(self, access: FcAccess, name: str, body: dict[str, Any]) -> FcResult:
        request = fc.CreateAliasRequest(body=fc.CreateAliasInput().from_map(body))
        return await self._body(
            access, "CreateAlias", lambda c: c.create_alias_async(name, request)
        )

    async def update_alias(
        self, access: FcAccess, name: str, alias: str, body: dict[str, Any]
    ) -> FcResult:
        request = fc.UpdateAliasRequest(body=fc.UpdateAliasInput().from_map(body))
        return await self._body(
            access, "UpdateAlias", lambda c: c.update_alias_async(name, alias, request)
        )

    async def delete_alias(self, access: FcAccess, name: str, alias: str) -> str | None:
        return await self._request_id(
            access, "DeleteAlias", lambda c: c.delete_alias_async(name, alias)
        )
