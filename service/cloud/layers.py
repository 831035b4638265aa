"""FC calls for layers: versions published from a zip, and listed by layer name."""

from __future__ import annotations

import base64
from typing import Any

from alibabacloud_fc20230330 import models as fc
from alibabacloud_fc20230330.client import Client

from service.cloud.access import FcAccess
from service.cloud.client import FcClient, FcResult
from service.cloud.errors import FcNotFound

LIST_PAGE = 100  # ListLayerVersions: limit 1-100


class LayerCalls(FcClient):
    async def create_layer_version(
        self,
        access: FcAccess,
        name: str,
        package: bytes,
        *,
        description: str,
        compatible_runtime: list[str],
    ) -> FcResult:
        body = fc.CreateLayerVersionInput(
            code=fc.InputCodeLocation(zip_file=base64.b64encode(package).decode()),
            compatible_runtime=compatible_runtime,
            description=description,
        )
        request = fc.CreateLayerVersionRequest(body=body)
        return await self._body(
            access, "CreateLayerVersion", lambda c: c.create_layer_version_async(name, request)
        )

    async def list_layer_versions(self, access: FcAccess, name: str) -> list[dict[str, Any]]:
        """Every version of layer ``name``, oldest first; [] when there is no such layer."""
        layers: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            request = fc.ListLayerVersionsRequest(limit=LIST_PAGE, start_version=start)

            def call(client: Client, request: Any = request) -> Any:
                return client.list_layer_versions_async(name, request)

            try:
                page = await self._body(access, "ListLayerVersions", call)
            except FcNotFound:
                return layers
            layers += page.body.get("layers") or []
            following = page.body.get("nextVersion")
            if not following:
                return layers
            start = str(following)
