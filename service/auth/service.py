"""Tokens: authenticate a bearer, create, list, revoke, bootstrap the first admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from service.auth.cache import TokenCache
from service.auth.principal import SCOPE_RANK, Principal
from service.auth.repository import TokenRepository
from service.auth.schemas import Scope, TokenCreate
from service.auth.tokens import display_prefix, generate_token, hash_token, is_well_formed
from service.kit.db import Database
from service.kit.errors import NotFound, Unauthenticated
from service.models import ApiToken
from service.models.base import utcnow

BOOTSTRAP_TOKEN_NAME = "bootstrap"


@dataclass(frozen=True)
class Bootstrap:
    """What start-up found: ``generated`` (``token`` must be shown once), ``configured``
    (FCPLANE_BOOTSTRAP_TOKEN is a valid token), ``ignored`` (tokens exist and the
    configured value is not one of them), ``exists`` (tokens exist, none configured)."""

    outcome: Literal["generated", "configured", "ignored", "exists"]
    token: str | None = None

    def __repr__(self) -> str:
        return f"Bootstrap({self.outcome!r})"


class TokenService:
    def __init__(self, db: Database, cache: TokenCache | None = None) -> None:
        self.db = db
        self.cache = cache

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller; a cache miss is one short read, released before the handler runs."""
        if not authorization:
            raise Unauthenticated("missing Authorization header (expected 'Bearer <token>')")
        scheme, _, raw = authorization.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not is_well_formed(raw):
            raise Unauthenticated("malformed Authorization header (expected 'Bearer <token>')")
        token_hash = hash_token(raw)
        if self.cache is not None and (cached := self.cache.get(token_hash)) is not None:
            return cached
        async with self.db.read() as session:
            token = await TokenRepository(session).by_hash(token_hash)
        if token is None:
            raise Unauthenticated("unknown token")
        if token.revoked_at is not None:
            raise Unauthenticated("token has been revoked")
        if token.expires_at is not None and token.expires_at <= utcnow():
            raise Unauthenticated("token has expired")
        principal = Principal(token.id, token.name, frozenset(Scope(s) for s in token.scopes))
        if self.cache is not None:
            self.cache.put(token_hash, principal, token.expires_at)
        return principal

    async def create(
        self, request: TokenCreate, created_by: str | None, raw: str | None = None
    ) -> tuple[ApiToken, str]:
        async with self.db.write() as session:
            return await self._create(TokenRepository(session), request, created_by, raw)

    @staticmethod
    async def _create(
        tokens: TokenRepository, request: TokenCreate, created_by: str | None, raw: str | None
    ) -> tuple[ApiToken, str]:
        raw = raw or generate_token()
        now = utcnow()
        token = ApiToken(
            name=request.name,
            token_hash=hash_token(raw),
            prefix=display_prefix(raw),
            scopes=sorted({s.value for s in request.scopes}, key=lambda s: SCOPE_RANK[Scope(s)]),
            created_at=now,
            created_by=created_by,
            expires_at=now + timedelta(seconds=request.expires_in) if request.expires_in else None,
        )
        return await tokens.add(token), raw

    async def list(self, after: int | None, limit: int) -> list[ApiToken]:
        async with self.db.read() as session:
            return await TokenRepository(session).list_active(utcnow(), after, limit)

    async def revoke(self, token_id: int) -> None:
        async with self.db.write() as session:
            token = await TokenRepository(session).active(token_id, utcnow())
            if token is None:
                raise NotFound(f"token {token_id} does not exist or is no longer active")
            token.revoked_at = utcnow()
        if self.cache is not None:
            self.cache.evict_token_id(token_id)

    async def bootstrap(self, configured: str | None) -> Bootstrap:
        """Create the first admin token when there is none (``configured``, or a new one)."""
        async with self.db.write() as session:
            tokens = TokenRepository(session)
            if await tokens.any_exist():
                if configured is None:
                    return Bootstrap("exists")
                found = await tokens.by_hash(hash_token(configured))
                return Bootstrap("configured" if found is not None else "ignored")
            request = TokenCreate(name=BOOTSTRAP_TOKEN_NAME, scopes=[Scope.ADMIN])
            _, raw = await self._create(tokens, request, None, configured)
        return Bootstrap("configured") if configured else Bootstrap("generated", raw)

    async def purge(self, cutoff_age: timedelta) -> int:
        async with self.db.write() as session:
            return await TokenRepository(session).purge(utcnow() - cutoff_age)
