"""One official-SDK client per account, for one Alibaba Cloud service (FC, CloudMonitor).

The Tea SDKs' clients are built from a ``Config`` (credentials, region, endpoint,
timeouts) and are reused across calls. An account edited in place (rotated secret, new
endpoint) gets a new client; the stale one for the same alias is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from alibabacloud_tea_openapi.models import Config

from service.cloud.access import FcAccess

C = TypeVar("C")


class SdkClients(Generic[C]):
    def __init__(
        self,
        build: Callable[[Config], C],
        endpoint: Callable[[FcAccess], str],
        *,
        connect_timeout_ms: int,
        read_timeout_ms: int,
    ) -> None:
        self._build = build
        self._endpoint = endpoint
        self.connect_timeout_ms = connect_timeout_ms
        self.read_timeout_ms = read_timeout_ms
        self._clients: dict[tuple[str, ...], C] = {}

    def get(self, access: FcAccess) -> C:
        key = access.cache_key()
        client = self._clients.get(key)
        if client is None:
            for old in [k for k in self._clients if k[0] == access.alias]:
                del self._clients[old]
            creds = access.credentials
            client = self._clients[key] = self._build(
                Config(
                    access_key_id=creds.access_key_id,
                    access_key_secret=creds.access_key_secret,
                    security_token=creds.security_token,
                    region_id=access.region,
                    endpoint=self._endpoint(access),
                    protocol=access.protocol,
                    connect_timeout=self.connect_timeout_ms,
                    read_timeout=self.read_timeout_ms,
                )
            )
        return client

    def __len__(self) -> int:
        """How many clients are cached (one per account alias)."""
        return len(self._clients)
