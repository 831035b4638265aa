"""A short-lived, per-process cache of verified tokens.

Verifying a token is a database round trip on every request; tokens are
immutable once created, so a verified principal can be reused briefly. A
revocation through this process evicts at once; other API replicas stop
accepting the token within ``ttl`` seconds. Expiry is checked on every hit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from service.auth.principal import Principal
from service.models.base import utcnow


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None
    cached_until: float


class TokenCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry.cached_until < time.monotonic() or (
            entry.expires_at is not None and entry.expires_at <= utcnow()
        ):
            del self._entries[token_hash]
            return None
        return entry.principal

    def put(self, token_hash: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[token_hash] = _Entry(principal, expires_at, time.monotonic() + self.ttl_s)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def evict_token_id(self, token_id: int) -> None:
        for key in [k for k, e in self._entries.items() if e.principal.token_id == token_id]:
            del self._entries[key]
