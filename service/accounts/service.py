from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from service.accounts.repository import AccountRepository, AccountSummary
from service.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    default_endpoint,
    mask_key_id,
)
from service.kit.crypto import SecretBox
from service.kit.errors import AlreadyExists, InUse, NotFound
from service.models import Account

_SECRET_CONTEXT = "accounts.access_key_secret"
_TOKEN_CONTEXT = "accounts.security_token"


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials, for the FC gateway only. repr never shows secrets."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={mask_key_id(self.access_key_id)!r}, secret=***)"


def present(account: Account | AccountSummary) -> AccountOut:
    return AccountOut(
        alias=account.alias,
        account_id=account.account_id,
        region=account.region,
        endpoint=account.endpoint,
        access_key_id=mask_key_id(account.access_key_id),
        has_security_token=account.has_security_token,
        default=account.is_default,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


class AccountService:
    def __init__(self, accounts: AccountRepository, box: SecretBox) -> None:
        self.accounts = accounts
        self.box = box

    async def get(self, alias: str) -> Account:
        account = await self.accounts.by_alias(alias)
        if account is None:
            raise NotFound(f"account '{alias}' does not exist", alias=alias)
        return account

    async def list(self, after: str | None, limit: int) -> list[AccountSummary]:
        return await self.accounts.page(after, limit)

    async def create(self, request: AccountCreate) -> Account:
        if await self.accounts.alias_taken(request.alias):
            raise _duplicate(request.alias)
        if request.default:
            await self.accounts.clear_default()
        account = Account(
            alias=request.alias,
            account_id=request.account_id,
            region=request.region,
            endpoint=request.endpoint or default_endpoint(request.account_id, request.region),
            access_key_id=request.access_key_id,
            access_key_secret_sealed=self.box.seal(
                request.access_key_secret.get_secret_value(), _SECRET_CONTEXT
            ),
            security_token_sealed=(
                self.box.seal(request.security_token.get_secret_value(), _TOKEN_CONTEXT)
                if request.security_token
                else None
            ),
            is_default=request.default,
        )
        return await self._save(account)

    async def update(self, alias: str, request: AccountUpdate) -> Account:
        account = await self.get(alias)
        if request.alias is not None and request.alias != alias:
            if await self.accounts.alias_taken(request.alias):
                raise _duplicate(request.alias)
            account.alias = request.alias
        for field in ("account_id", "region", "endpoint", "access_key_id"):
            value = getattr(request, field)
            if value is not None:
                setattr(account, field, value)
        if request.access_key_secret is not None:
            account.access_key_secret_sealed = self.box.seal(
                request.access_key_secret.get_secret_value(), _SECRET_CONTEXT
            )
        if "security_token" in request.model_fields_set:  # null clears it
            token = request.security_token
            account.security_token_sealed = (
                self.box.seal(token.get_secret_value(), _TOKEN_CONTEXT) if token else None
            )
        if request.default is True and not account.is_default:
            await self.accounts.clear_default()
            account.is_default = True
        elif request.default is False:
            account.is_default = False
        return await self._save(account)

    async def delete(self, alias: str) -> None:
        account = await self.get(alias)
        names = await self.accounts.function_names(account)
        if names:
            raise InUse(
                f"account '{alias}' is used by {len(names)} function(s); remove or move them first",
                functions=names,
            )
        await self.accounts.delete(account)

    def credentials(self, account: Account) -> Credentials:
        sealed_token = account.security_token_sealed
        return Credentials(
            access_key_id=account.access_key_id,
            access_key_secret=self.box.open(account.access_key_secret_sealed, _SECRET_CONTEXT),
            security_token=self.box.open(sealed_token, _TOKEN_CONTEXT) if sealed_token else None,
        )

    async def _save(self, account: Account) -> Account:
        try:
            await self.accounts.save(account)
        except IntegrityError:
            # A concurrent request took the alias (or the default flag) between
            # our check and our write; the unique indexes are the real guard.
            raise AlreadyExists(
                f"account '{account.alias}' conflicts with a concurrent change; retry",
                alias=account.alias,
            ) from None
        return account


def _duplicate(alias: str) -> AlreadyExists:
    return AlreadyExists(f"an account with alias '{alias}' already exists", alias=alias)
