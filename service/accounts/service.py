"""FC accounts: credentials sealed at rest, opened only to reach FC."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from service.accounts.repository import AccountRepository, AccountSummary
from service.accounts.schemas import AccountCreate, AccountUpdate, default_endpoint
from service.cloud.access import Credentials, FcAccess
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import AlreadyExists, InUse
from service.models import Account

_SECRET_CONTEXT = "accounts.access_key_secret"
_TOKEN_CONTEXT = "accounts.security_token"


def credentials(box: SecretBox, account: Account) -> Credentials:
    sealed_token = account.security_token_sealed
    return Credentials(
        access_key_id=account.access_key_id,
        access_key_secret=box.open(account.access_key_secret_sealed, _SECRET_CONTEXT),
        security_token=box.open(sealed_token, _TOKEN_CONTEXT) if sealed_token else None,
    )


def access_for(box: SecretBox, account: Account) -> FcAccess:
    """What the FC gateway needs to reach ``account`` (its secrets opened)."""
    return FcAccess(
        alias=account.alias,
        account_id=account.account_id,
        region=account.region,
        endpoint=account.endpoint,
        credentials=credentials(box, account),
    )


class AccountService:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    async def get(self, alias: str) -> Account:
        async with self.db.read() as session:
            return await AccountRepository(session).existing(alias)

    async def list(self, after: str | None, limit: int) -> list[AccountSummary]:
        async with self.db.read() as session:
            return await AccountRepository(session).page(after, limit)

    async def create(self, request: AccountCreate) -> Account:
        async with self.db.write() as session:
            return await create_account(AccountRepository(session), self.box, request)

    async def update(self, alias: str, request: AccountUpdate) -> Account:
        async with self.db.write() as session:
            return await update_account(AccountRepository(session), self.box, alias, request)

    async def delete(self, alias: str) -> None:
        async with self.db.write() as session:
            accounts = AccountRepository(session)
            account = await accounts.existing(alias)
            names = await accounts.function_names(account)
            if names:
                raise InUse(
                    f"account '{alias}' is used by {len(names)} function(s); remove or move "
                    "them first",
                    functions=names,
                )
            await accounts.delete(account)


async def create_account(
    accounts: AccountRepository, box: SecretBox, request: AccountCreate
) -> Account:
    """Inside the caller's write transaction."""
    if await accounts.alias_taken(request.alias):
        raise _duplicate(request.alias)
    if request.default:
        await accounts.clear_default()
    account = Account(
        alias=request.alias,
        account_id=request.account_id,
        region=request.region,
        endpoint=request.endpoint or default_endpoint(request.account_id, request.region),
        access_key_id=request.access_key_id,
        access_key_secret_sealed=box.seal(
            request.access_key_secret.get_secret_value(), _SECRET_CONTEXT
        ),
        security_token_sealed=(
            box.seal(request.security_token.get_secret_value(), _TOKEN_CONTEXT)
            if request.security_token
            else None
        ),
        is_default=request.default,
    )
    return await _save(accounts, account)


async def update_account(
    accounts: AccountRepository, box: SecretBox, alias: str, request: AccountUpdate
) -> Account:
    """Inside the caller's write transaction."""
    account = await accounts.existing(alias)
    if request.alias is not None and request.alias != alias:
        if await accounts.alias_taken(request.alias):
            raise _duplicate(request.alias)
        account.alias = request.alias
    for field in ("account_id", "region", "endpoint", "access_key_id"):
        value = getattr(request, field)
        if value is not None:
            setattr(account, field, value)
    if request.access_key_secret is not None:
        account.access_key_secret_sealed = box.seal(
            request.access_key_secret.get_secret_value(), _SECRET_CONTEXT
        )
    if "security_token" in request.model_fields_set:  # null clears it
        token = request.security_token
        account.security_token_sealed = (
            box.seal(token.get_secret_value(), _TOKEN_CONTEXT) if token else None
        )
    if request.default is True and not account.is_default:
        await accounts.clear_default()
        account.is_default = True
    elif request.default is False:
        account.is_default = False
    return await _save(accounts, account)


async def _save(accounts: AccountRepository, account: Account) -> Account:
    try:
        return await accounts.add(account)
    except IntegrityError:
        # A concurrent request took the alias (or the default flag) between
        # our check and our write; the unique indexes are the real guard.
        raise AlreadyExists(
            f"account '{account.alias}' conflicts with a concurrent change; retry",
            alias=account.alias,
        ) from None


def _duplicate(alias: str) -> AlreadyExists:
    return AlreadyExists(f"an account with alias '{alias}' already exists", alias=alias)
