"""Chat integrations: created and changed by admins, loaded (with their secrets
opened) by the inbound endpoints, and who may do what through each."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from service.auth.schemas import Scope
from service.chatops import contract
from service.chatops.repository import ChatUserRepository, IntegrationRepository
from service.chatops.schemas import (
    ChatPlatform,
    ChatUserPut,
    DefaultScope,
    IntegrationCreate,
    IntegrationOut,
    IntegrationUpdate,
)
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from service.kit.settings import Settings
from service.models import ChatIntegration, ChatUser
from service.webhooks.url_safety import DestinationPolicy, DestinationRefused

# Contexts bind each ciphertext to its field (see kit.crypto.SecretBox).
SECRET_CONTEXT = "chatops.secret"
TOKEN_CONTEXT = "chatops.verification_token"
APP_SECRET_CONTEXT = "chatops.app_secret"
FEISHU_ONLY = ("verification_token", "app_id", "app_secret", "api_base_url")


class IntegrationDisabled(Forbidden):
    code, title = "integration_disabled", "Chat integration disabled"


@dataclass(frozen=True)
class Credentials:
    """An integration's secrets, opened for one inbound request; never logged."""

    secret: str
    verification_token: str | None
    app_id: str | None
    app_secret: str | None
    api_base_url: str | None


@dataclass(frozen=True)
class Loaded:
    integration: contract.Integration
    credentials: Credentials


def _field_error(field: str, message: str) -> InvalidInput:
    error = {"field": field, "location": "body", "message": message, "type": "value_error"}
    return InvalidInput(f"Invalid fields: {field}", errors=[error])


def inbound_paths(platform: str, name: str) -> list[str]:
    if platform == ChatPlatform.SLACK:
        return [f"/v1/chat/slack/{name}/commands", f"/v1/chat/slack/{name}/interactions"]
    return [f"/v1/chat/{platform}/{name}"]


def as_contract(row: ChatIntegration) -> contract.Integration:
    platform: contract.Platform = row.platform  # type: ignore[assignment]
    return contract.Integration(
        id=row.id,
        name=row.name,
        platform=platform,
        default_scope=Scope(row.default_scope) if row.default_scope else None,
        require_second_approver=row.require_second_approver,
        approval_ttl_seconds=row.approval_ttl_seconds,
        channels=frozenset(row.channels) if row.channels is not None else None,
    )


class IntegrationService:
    def __init__(self, db: Database, box: SecretBox, settings: Settings) -> None:
        self.db = db
        self.box = box
        self.settings = settings

    def out(self, row: ChatIntegration) -> IntegrationOut:
        base = self.settings.resolved_public_url
        return IntegrationOut(
            id=row.id,
            name=row.name,
            platform=ChatPlatform(row.platform),
            has_secret=bool(row.secret_sealed),
            has_verification_token=row.verification_token_sealed is not None,
            app_id=row.app_id,
            has_app_secret=row.app_secret_sealed is not None,
            api_base_url=row.api_base_url,
            default_scope=DefaultScope(row.default_scope) if row.default_scope else None,
            channels=row.channels,
            require_second_approver=row.require_second_approver,
            approval_ttl_seconds=row.approval_ttl_seconds,
            enabled=row.enabled,
            inbound_urls=[base + path for path in inbound_paths(row.platform, row.name)],
            created_by=row.created_by,
            created_at=row.created_at,
        )

    async def _check_api_base(self, url: str | None) -> None:
        # A network call (DNS): before any database block.
        if url is None:
            return
        try:
            await DestinationPolicy(self.settings.webhook_allowed_hosts).check_url(url)
        except DestinationRefused as exc:
            raise _field_error("api_base_url", str(exc)) from None

    def _seal(self, value: SecretStr | None, context: str) -> bytes | None:
        return None if value is None else self.box.seal(value.get_secret_value(), context)

    async def create(self, body: IntegrationCreate, actor: str) -> ChatIntegration:
        if body.platform is not ChatPlatform.FEISHU:
            for name in FEISHU_ONLY:
                if getattr(body, name) is not None:
                    raise _field_error(name, f"only Feishu integrations take {name}")
        else:
            if body.verification_token is None:
                raise _field_error("verification_token", "Feishu needs the Verification Token")
            if (body.app_id is None) != (body.app_secret is None):
                raise _field_error("app_secret", "give app_id and app_secret together")
        await self._check_api_base(body.api_base_url)
        row = ChatIntegration(
            name=body.name,
            platform=body.platform.value,
            secret_sealed=self._seal(body.secret, SECRET_CONTEXT),
            verification_token_sealed=self._seal(body.verification_token, TOKEN_CONTEXT),
            app_id=body.app_id,
            app_secret_sealed=self._seal(body.app_secret, APP_SECRET_CONTEXT),
            api_base_url=body.api_base_url,
            default_scope=body.default_scope.value if body.default_scope else None,
            channels=body.channels,
            require_second_approver=body.require_second_approver,
            approval_ttl_seconds=body.approval_ttl_seconds,
            enabled=body.enabled,
            created_by=actor,
        )
        async with self.db.write() as session:
            repo = IntegrationRepository(session)
            if await repo.by_name(body.name) is not None:
                raise AlreadyExists(f"chat integration {body.name!r} exists", name=body.name)
            await repo.add(row)
        return row

    async def get(self, integration_id: int) -> ChatIntegration:
        async with self.db.read() as session:
            return await _integration(IntegrationRepository(session), integration_id)

    async def page(self, after: int | None, limit: int) -> list[ChatIntegration]:
        async with self.db.read() as session:
            return await IntegrationRepository(session).page(after, limit)

    async def update(self, integration_id: int, body: IntegrationUpdate) -> ChatIntegration:
        await self._check_api_base(body.api_base_url)
        given = body.model_fields_set
        async with self.db.write() as session:
            row = await _integration(IntegrationRepository(session), integration_id)
            if row.platform != ChatPlatform.FEISHU:
                for name in FEISHU_ONLY:
                    if getattr(body, name) is not None:
                        raise _field_error(name, f"only Feishu integrations take {name}")
            if body.secret is not None:
                row.secret_sealed = self.box.seal(body.secret.get_secret_value(), SECRET_CONTEXT)
            if body.verification_token is not None:
                row.verification_token_sealed = self._seal(body.verification_token, TOKEN_CONTEXT)
            if body.app_secret is not None:
                row.app_secret_sealed = self._seal(body.app_secret, APP_SECRET_CONTEXT)
            if body.app_id is not None:
                row.app_id = body.app_id
            if "api_base_url" in given:
                row.api_base_url = body.api_base_url
            if "default_scope" in given:
                row.default_scope = body.default_scope.value if body.default_scope else None
            if "channels" in given:
                row.channels = body.channels
            for name in ("require_second_approver", "approval_ttl_seconds", "enabled"):
                if getattr(body, name) is not None:
                    setattr(row, name, getattr(body, name))
            await session.flush()
        return row

    async def delete(self, integration_id: int) -> None:
        async with self.db.write() as session:
            repo = IntegrationRepository(session)
            await repo.delete(await _integration(repo, integration_id))

    async def load(self, platform: str, name: str) -> Loaded:
        """The integration an inbound request names, with its secrets: 404 unknown (or of
        another platform), 403 disabled."""
        async with self.db.read() as session:
            row = await IntegrationRepository(session).by_name(name)
        if row is None or row.platform != platform:
            raise NotFound(f"no {platform} chat integration named {name!r}")
        if not row.enabled:
            raise IntegrationDisabled(f"chat integration {name!r} is disabled")

        def opened(sealed: bytes | None, context: str) -> str | None:
            return self.box.open(sealed, context) if sealed is not None else None

        credentials = Credentials(
            secret=self.box.open(row.secret_sealed, SECRET_CONTEXT),
            verification_token=opened(row.verification_token_sealed, TOKEN_CONTEXT),
            app_id=row.app_id,
            app_secret=opened(row.app_secret_sealed, APP_SECRET_CONTEXT),
            api_base_url=row.api_base_url,
        )
        return Loaded(as_contract(row), credentials)

    # -- user mappings ---------------------------------------------------------------

    async def users(self, integration_id: int, after: str | None, limit: int) -> list[ChatUser]:
        async with self.db.read() as session:
            await _integration(IntegrationRepository(session), integration_id)
            return await ChatUserRepository(session).page(integration_id, after, limit)

    async def put_user(
        self, integration_id: int, user_id: str, body: ChatUserPut, actor: str
    ) -> tuple[ChatUser, bool]:
        """The mapping, and whether it is new."""
        async with self.db.write() as session:
            await _integration(IntegrationRepository(session), integration_id)
            users = ChatUserRepository(session)
            row = await users.get((integration_id, user_id))
            if row is not None:
                row.scope = body.scope.value
                row.display_name = body.display_name
                await session.flush()
                return row, False
            row = ChatUser(
                integration_id=integration_id,
                platform_user_id=user_id,
                scope=body.scope.value,
                display_name=body.display_name,
                created_by=actor,
            )
            await users.add(row)
            return row, True

    async def delete_user(self, integration_id: int, user_id: str) -> None:
        async with self.db.write() as session:
            await _integration(IntegrationRepository(session), integration_id)
            users = ChatUserRepository(session)
            row = await users.get((integration_id, user_id))
            if row is None:
                raise NotFound(
                    f"user {user_id!r} is not mapped in chat integration {integration_id}"
                )
            await users.delete(row)


async def _integration(repo: IntegrationRepository, integration_id: int) -> ChatIntegration:
    row = await repo.get(integration_id)
    if row is None:
        raise NotFound(f"chat integration {integration_id} does not exist", id=integration_id)
    return row
