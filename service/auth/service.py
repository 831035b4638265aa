from __future__ import annotations

from datetime import timedelta

from service.auth.cache import TokenCache
from service.auth.principal import SCOPE_RANK, Principal
from service.auth.repository import TokenRepository
from service.auth.schemas import Scope, TokenCreate
from service.auth.tokens import display_prefix, generate_token, hash_token, is_well_formed
from service.kit.errors import NotFound, Unauthenticated
from service.models import ApiToken
from service.models.base import utcnow

BOOTSTRAP_TOKEN_NAME = "bootstrap"


class TokenService:
    def __init__(self, tokens: TokenRepository, cache: TokenCache | None = None) -> None:
        self.tokens = tokens
        self.cache = cache

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("missing Authorization header (expected 'Bearer <token>')")
        scheme, _, raw = authorization.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not is_well_formed(raw):
            raise Unauthenticated("malformed Authorization header (expected 'Bearer <token>')")
        token_hash = hash_token(raw)
        if self.cache is not None and (cached := self.cache.get(token_hash)) is not None:
            return cached
        token = await self.tokens.by_hash(token_hash)
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
        return await self.tokens.add(token), raw

    async def list(self, after: int | None, limit: int) -> list[ApiToken]:
        return await self.tokens.list_active(utcnow(), after, limit)

    async def revoke(self, token_id: int) -> None:
        token = await self.tokens.active(token_id, utcnow())
        if token is None:
            raise NotFound(f"token {token_id} does not exist or is no longer active")
        token.revoked_at = utcnow()
        await self.tokens.session.flush()
        if self.cache is not None:
            self.cache.evict_token_id(token_id)

    async def bootstrap(self, configured: str | None) -> str | None:
        """Create the first admin token when there is none; return it if it was generated."""
        if await self.tokens.any_exist():
            return None
        request = TokenCreate(name=BOOTSTRAP_TOKEN_NAME, scopes=[Scope.ADMIN])
        _, raw = await self.create(request, created_by=None, raw=configured)
        return None if configured else raw
