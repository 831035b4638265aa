"""Who is calling, and what their token allows."""

from __future__ import annotations

from dataclasses import dataclass

from service.auth.schemas import Scope
from service.kit.errors import Forbidden

# A scope grants itself and every scope below it.
SCOPE_RANK = {Scope.READ: 1, Scope.DEPLOY: 2, Scope.ADMIN: 3}


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    scopes: frozenset[Scope]

    def allows(self, needed: Scope) -> bool:
        return any(SCOPE_RANK[s] >= SCOPE_RANK[needed] for s in self.scopes)

    def require(self, needed: Scope) -> None:
        if not self.allows(needed):
            raise Forbidden(f"this operation needs the '{needed}' scope", required_scope=needed)
