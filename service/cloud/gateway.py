"""One async gateway over the official SDK (`alibabacloud-fc20230330`).

Configs cross this boundary as plain dicts in FC's wire names (camelCase,
exactly as FC returns them), so the rest of fcplane never touches SDK model
classes. The calls are grouped by what they manage: the function itself, its
tags (FC changes them through its tag API, which names a function by its
``functionArn``) and invocations here; its sub-resources (triggers, configs,
custom domains) in ``subresources``; versions and aliases in ``releases``; layers in
``layers``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alibabacloud_fc20230330 import models as fc
from alibabacloud_fc20230330.client import Client

from service.cloud.access import FcAccess
from service.cloud.client import (
    FcClient,
    FcResult,
    Invocation,
    RetryPolicy,
    request_id_of,
)
from service.cloud.invocations import InvocationCalls
from service.cloud.layers import LayerCalls
from service.cloud.releases import ReleaseCalls
from service.cloud.subresources import SubresourceCalls

__all__ = ["FcGateway", "FcResult", "Invocation", "RetryPolicy"]

# FC 3.0's one taggable resource type (also spelled ALIYUN::FC::FUNCTION).
TAG_RESOURCE_TYPE = "function"
UNTAG_KEYS_PER_CALL = 50  # UntagResources: "You can specify up to 50 tag keys"


class FcGateway(SubresourceCalls, ReleaseCalls, LayerCalls, InvocationCalls, FcClient):
    # -- functions ---------------------------------------------------------

    async def get_function(
        self, access: FcAccess, name: str, qualifier: str | None = None
    ) -> FcResult:
        request = fc.GetFunctionRequest(qualifier=qualifier)
        return await self._body(
            access, "GetFunction", lambda c: c.get_function_async(name, request)
        )

    async def create_function(self, access: FcAccess, config: dict[str, Any]) -> FcResult:
        body = fc.CreateFunctionInput().from_map(config)
        request = fc.CreateFunctionRequest(body=body)
        return await self._body(
            access, "CreateFunction", lambda c: c.create_function_async(request)
        )

    async def update_function(
        self, access: FcAccess, name: str, config: dict[str, Any]
    ) -> FcResult:
        body = fc.UpdateFunctionInput().from_map(config)
        request = fc.UpdateFunctionRequest(body=body)
        return await self._body(
            access, "UpdateFunction", lambda c: c.update_function_async(name, request)
        )

    async def delete_function(self, access: FcAccess, name: str) -> str | None:
        return await self._request_id(
            access, "DeleteFunction", lambda c: c.delete_function_async(name)
        )

    async def get_function_code(self, access: FcAccess, name: str) -> FcResult:
        request = fc.GetFunctionCodeRequest()
        return await self._body(
            access, "GetFunctionCode", lambda c: c.get_function_code_async(name, request)
        )

    async def list_functions(
        self, access: FcAccess, prefix: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._listed(
            access,
            "ListFunctions",
            "functions",
            lambda c, token: c.list_functions_async(
                fc.ListFunctionsRequest(limit=100, prefix=prefix, next_token=token)
            ),
        )

    # -- tags (FC's tag API; UpdateFunction carries none) ---------------------

    async def tag_function(self, access: FcAccess, arn: str, tags: Mapping[str, str]) -> list[str]:
        """Set ``tags`` on the function ``arn`` (other tags stay); FC's request ids."""
        if not tags:
            return []
        body = fc.TagResourcesInput(
            resource_id=[arn],
            resource_type=TAG_RESOURCE_TYPE,
            tag=[fc.Tag(key=k, value=v) for k, v in sorted(tags.items())],
        )
        request = fc.TagResourcesRequest(body=body)
        response = await self._call(
            access, "TagResources", lambda c: c.tag_resources_async(request)
        )
        return [rid] if (rid := request_id_of(response)) else []

    async def untag_function(self, access: FcAccess, arn: str, keys: Collection[str]) -> list[str]:
        """Remove the tag ``keys`` from the function ``arn``; FC's request ids."""
        ids: list[str] = []
        ordered = sorted(keys)
        for start in range(0, len(ordered), UNTAG_KEYS_PER_CALL):
            request = fc.UntagResourcesRequest(
                resource_type=TAG_RESOURCE_TYPE,
                resource_id=[arn],
                tag_key=ordered[start : start + UNTAG_KEYS_PER_CALL],
            )

            def untag(client: Client, request: Any = request) -> Any:
                return client.untag_resources_async(request)

            response = await self._call(access, "UntagResources", untag)
            if rid := request_id_of(response):
                ids.append(rid)
        return ids

    async def list_function_tags(self, access: FcAccess, arn: str) -> dict[str, str]:
        """The tags FC's tag API reports for the function ``arn``."""
        tags: dict[str, str] = {}
        token: str | None = None
        while True:
            request = fc.ListTagResourcesRequest(
                resource_type=TAG_RESOURCE_TYPE, resource_id=[arn], limit=100, next_token=token
            )

            def list_page(client: Client, request: Any = request) -> Any:
                return client.list_tag_resources_async(request)

            page = await self._body(access, "ListTagResources", list_page)
            for entry in page.body.get("TagResources") or []:
                if isinstance(entry, dict) and entry.get("ResourceId") == arn:
                    tags[str(entry.get("TagKey"))] = str(entry.get("TagValue") or "")
            token = page.body.get("NextToken")
            if not token:
                return tags

    async def invoke(
        self,
        access: FcAccess,
        name: str,
        payload: bytes,
        qualifier: str | None = None,
        log_tail: bool = False,
    ) -> Invocation:
        """A synchronous invocation (see ``InvocationCalls.invoke_function`` for the rest)."""
        return await self.invoke_function(
            access, name, payload, qualifier=qualifier, log_tail=log_tail
        )
