"""The reference for GET /v1/accounts: fcplane's accounts query through SQLAlchemy Core.

The same query as fcplane's account list (the columns of ``_SUMMARIES`` in
service/accounts/repository.py, ordered by alias, ``limit + 1`` rows) on an
engine from fcplane's own ``service.kit.db.create_engine`` (its pool settings,
and its PRAGMAs on SQLite), presented as the same JSON through the same kind of
pydantic response model. No authentication, no session, no service layer. It
defines its own table rather than importing fcplane's models, so the query
stays the same across refactors of fcplane's internals.

    FCPLANE_DATABASE_URL=sqlite+aiosqlite:///... \\
        uvicorn --factory benchmarks.core_app:create_app --no-access-log
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from service.kit.db import create_engine

accounts = Table(
    "accounts",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("alias", String(64)),
    Column("account_id", String(32)),
    Column("region", String(32)),
    Column("endpoint", String(255)),
    Column("access_key_id", String(128)),
    Column("security_token_sealed", LargeBinary),
    Column("is_default", Boolean),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)

QUERY = (
    select(
        accounts.c.alias,
        accounts.c.account_id,
        accounts.c.region,
        accounts.c.endpoint,
        accounts.c.access_key_id,
        accounts.c.security_token_sealed.is_not(None).label("has_security_token"),
        accounts.c.is_default,
        accounts.c.created_at,
        accounts.c.updated_at,
    )
    .order_by(accounts.c.alias)
    .limit(bindparam("limit"))
)


class AccountOut(BaseModel):
    alias: str
    account_id: str
    region: str
    endpoint: str
    access_key_id: str
    has_security_token: bool
    default: bool
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _mask(key_id: str) -> str:
    return f"{key_id[:4]}****{key_id[-4:]}" if len(key_id) >= 12 else "****"


def create_app() -> FastAPI:
    url = os.environ["FCPLANE_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(url)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/accounts", response_model=Page)
    async def list_accounts(
        request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> Page:
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            rows = (await conn.execute(QUERY, {"limit": limit + 1})).all()
        cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            key = json.dumps({"after": rows[-1].alias}).encode()
            cursor = base64.urlsafe_b64encode(key).decode().rstrip("=")
        return Page(
            items=[
                AccountOut(
                    alias=r.alias,
                    account_id=r.account_id,
                    region=r.region,
                    endpoint=r.endpoint,
                    access_key_id=_mask(r.access_key_id),
                    has_security_token=r.has_security_token,
                    default=r.is_default,
                    created_at=_utc(r.created_at),
                    updated_at=_utc(r.updated_at),
                )
                for r in rows
            ],
            next_cursor=cursor,
        )

    return app
