"""Running Alembic from the application: `fcplane db ...`, start-up and readiness."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

import service


def migrations_dir() -> Path:
    package = Path(service.__file__).parent
    # A wheel carries the migrations inside the package; a source checkout
    # (editable install, tests, CI) has them at the top level.
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("fcplane's migrations directory is missing from this installation")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise when the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))


def heads() -> tuple[str, ...]:
    script = ScriptDirectory(str(migrations_dir()))
    return tuple(script.get_heads())


async def current_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """Revisions the database is at; empty when it was never migrated."""
    async with engine.connect() as conn:
        # A plain query rather than MigrationContext: readiness probes call this
        # often, and the context logs at INFO every time it is configured.
        if not await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
            return ()
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return tuple(sorted(r[0] for r in rows))
