"""Everything needed to reach one account's FC endpoint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.accounts.schemas import mask_key_id


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials, for the FC gateway only. repr never shows secrets."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={mask_key_id(self.access_key_id)!r}, secret=***)"


@dataclass(frozen=True)
class FcAccess:
    alias: str
    account_id: str
    region: str
    endpoint: str  # with scheme, as stored on the account: https://host[:port]
    credentials: Credentials

    @property
    def host(self) -> str:
        # The SDK signs the Host header verbatim; it wants host[:port], no scheme.
        return urlsplit(self.endpoint).netloc

    @property
    def protocol(self) -> str:
        return urlsplit(self.endpoint).scheme

    @property
    def is_alibaba_cloud(self) -> bool:
        """FC's own endpoint ({account}.{region}.fc.aliyuncs.com), not an emulator."""
        return self.host.split(":")[0].endswith(".aliyuncs.com")

    def service_endpoint(self, product: str) -> str:
        """host[:port] of another Alibaba Cloud service for this account's region:
        ``log`` (SLS) or ``metrics`` (CloudMonitor). An emulator (any endpoint that is
        not Alibaba Cloud's) serves those APIs on its own port, so it answers itself."""
        if not self.is_alibaba_cloud:
            return self.host
        if product == "log":
            return f"{self.region}.log.aliyuncs.com"
        if product == "metrics":
            return f"metrics.{self.region}.aliyuncs.com"
        raise ValueError(f"unknown product {product!r}")

    def cache_key(self) -> tuple[str, ...]:
        """Identifies a client; changes whenever any part of the access changes."""
        creds = self.credentials
        secret_digest = hashlib.sha256(
            f"{creds.access_key_secret}\0{creds.security_token or ''}".encode()
        ).hexdigest()
        return (self.alias, self.endpoint, self.region, creds.access_key_id, secret_digest)

    def __repr__(self) -> str:
        return f"FcAccess(alias={self.alias!r}, endpoint={self.endpoint!r})"
