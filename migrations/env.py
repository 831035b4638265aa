"""Alembic environment: async engines, URL from the alembic config or FCPLANE_ settings."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from service.kit.db import create_engine
from service.models import Base
from service.models.base import EnumText, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    # Set by service.kit.migrations; the plain `alembic` command (pyproject
    # config, no .ini) falls back to the FCPLANE_ settings.
    url = config.get_section(config.config_ini_section, {}).get("sqlalchemy.url")
    if url:
        return url
    from service.kit.settings import Settings

    return Settings().resolved_database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations are history: they must not import application types that may
    # change later, so the UTC decorator is written as the plain column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EnumText):  # an enum stored as its text
        return f"sa.String(length={getattr(obj.impl_instance, 'length', None)})"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_online())
