"""create_app(): wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from arq.connections import ArqRedis
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.exc import SQLAlchemyError

import service
from service.accounts.local import LocalEmulator, ensure_local_account
from service.accounts.router import router as accounts_router
from service.auth.cache import TokenCache
from service.auth.router import router as tokens_router
from service.auth.service import TokenService
from service.chatops import delivery as chat_delivery
from service.chatops.admin_router import router as chat_integrations_router
from service.chatops.approval_page import router as chat_approval_page_router
from service.chatops.audit_router import router as chat_events_router
from service.chatops.router import router as chat_router
from service.cloud.gateway import FcGateway
from service.deploys.router import router as deploys_router
from service.drift.router import router as drift_router
from service.drift.tasks import run_scheduled_scans
from service.functions.router import router as functions_router
from service.health.router import router as health_router
from service.invocations.router import router as invocations_router
from service.jobs.execution import JobDeps
from service.jobs.router import router as jobs_router
from service.jobs.runner import in_process_jobs
from service.jobs.tasks import ArqQueue
from service.kit.body_limit import BodyLimit
from service.kit.crypto import SecretBox, configured_key
from service.kit.db import Database
from service.kit.errors import install_error_handlers
from service.kit.migrations import current_revisions, heads
from service.kit.openapi import install_openapi, operation_id
from service.kit.settings import Settings
from service.logs.router import router as logs_router
from service.monitoring.router import router as monitoring_router
from service.packages.router import router as packages_router
from service.projects.router import router as projects_router
from service.projects.sync_router import router as sync_router
from service.releases.router import router as releases_router
from service.state import AppState
from service.telemetry.middleware import bind_app_metrics, install_telemetry
from service.webhooks.catalog import document_events
from service.webhooks.router import router as webhooks_router
from service.webhooks.tasks import background_dispatcher

log = logging.getLogger(__name__)

API_DESCRIPTION = """\
Deploy Function Compute functions *through* fcplane, so that nobody silently
overwrites anybody else's change: every function's desired state is kept as
numbered revisions, a deploy names the revision it started from, and a stale
base or a console edit answers `409` with a typed plan (`ConflictProblem`)
unless a `strategy` says how to resolve it.

Every `/v1` call takes `Authorization: Bearer <token>`. Errors are
`application/problem+json` with a stable `code`; lists are
`{items, next_cursor}`; what is created is answered with `Location`.
"""


async def _bootstrap_admin(state: AppState) -> None:
    """On first start, create the admin token (printed once, never logged)."""
    if set(await current_revisions(state.db.engine)) != set(state.migration_heads):
        log.warning("database schema is not at head; run `fcplane db upgrade`")
        return
    configured = state.settings.bootstrap_token
    weakness = state.settings.bootstrap_token_weakness
    if weakness is not None:  # production refuses it at start-up (settings)
        log.warning("FCPLANE_BOOTSTRAP_TOKEN is %s; use a random value", weakness)
    found = await TokenService(state.db).bootstrap(
        configured.get_secret_value() if configured else None
    )
    if found.outcome == "generated":
        print(
            "\nfcplane: created the bootstrap admin token (shown once, store it now):\n"
            f"    {found.token}\n",
            file=sys.stderr,
            flush=True,
        )
    elif found.outcome == "configured":
        log.info("bootstrap token from FCPLANE_BOOTSTRAP_TOKEN is in place")
    elif found.outcome == "ignored":
        log.warning(
            "FCPLANE_BOOTSTRAP_TOKEN was ignored: the database already has tokens and this "
            "value is none of them (create tokens with `fcplane token create`)"
        )


@asynccontextmanager
async def _scheduled_scans(state: AppState) -> AsyncIterator[None]:
    task = asyncio.create_task(run_scheduled_scans(state), name="drift-scan")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings | None = None, emulator: LocalEmulator | None = None) -> FastAPI:
    """The API; ``emulator``: an FC emulator this process runs, registered as account `local`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database.connect(settings.resolved_database_url, settings.database_pool_size)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        state = AppState(
            settings=settings,
            db=db,
            secret_box=SecretBox(
                configured_key(
                    settings.secret_key.get_secret_value() if settings.secret_key else None,
                    settings.data_dir,
                )
            ),
            redis=redis,
            migration_heads=heads(),
            token_cache=TokenCache(settings.token_cache_seconds),
            gateway=FcGateway(),
            emulator_sandbox=emulator.sandbox if emulator is not None else None,
        )
        app.state.fcplane = state
        # Before any background task starts: they inherit it (deploys, FC calls and
        # webhook attempts they make count in this app's /metrics).
        bind_app_metrics(app)
        background = AsyncExitStack()
        try:
            try:
                await _bootstrap_admin(state)
                if emulator is not None:
                    await ensure_local_account(state.db, state.secret_box, emulator)
            except (OSError, SQLAlchemyError) as exc:
                # Start anyway: /readyz reports the database until it is back.
                log.error(
                    "database unavailable at start-up (%s); bootstrap skipped", type(exc).__name__
                )
            if not settings.redis_url and settings.drift_scan_interval_seconds > 0:
                await background.enter_async_context(_scheduled_scans(state))
            if not settings.redis_url:
                # Embedded setup: webhooks are delivered by this process (with
                # Redis, by the arq worker's dispatch_webhooks cron).
                await background.enter_async_context(
                    background_dispatcher(settings, db, state.secret_box)
                )
            jobs = JobDeps(settings, db, state.secret_box, state.gateway)
            if redis is not None:
                app.state.job_queue = ArqQueue(
                    ArqRedis(pool_or_conn=redis.connection_pool), settings.redis_queue_name
                )
            else:
                # Embedded setup: jobs (and their sweeper) run in this process.
                app.state.job_queue = await background.enter_async_context(in_process_jobs(jobs))
            yield
        finally:
            await chat_delivery.drain(timeout=5.0)
            await background.aclose()
            if redis is not None:
                await redis.aclose()
            await db.dispose()

    app = FastAPI(
        title="fcplane",
        version=service.__version__,
        summary="Deployment control plane for Alibaba Cloud Function Compute 3.0.",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # FastAPI's OpenTelemetry bridge looks its providers up on every request;
        # fcplane does not use it.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    install_openapi(app)
    # Before anything that reads the body, so that no byte of an oversized body is
    # read by anything else.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        by_prefix={"/v1/code-packages/": settings.code_package_max_bytes},
    )
    # Around the body limit: request ids and request metrics (and GET /metrics).
    install_telemetry(app, settings)
    app.include_router(health_router)
    app.include_router(tokens_router)
    app.include_router(accounts_router)
    app.include_router(webhooks_router)
    app.include_router(functions_router)
    app.include_router(invocations_router)
    app.include_router(monitoring_router)
    app.include_router(logs_router)
    app.include_router(packages_router)
    app.include_router(deploys_router)
    app.include_router(releases_router)
    app.include_router(drift_router)
    app.include_router(sync_router)
    app.include_router(projects_router)
    app.include_router(jobs_router)
    app.include_router(chat_integrations_router)
    app.include_router(chat_router)
    app.include_router(chat_approval_page_router)
    app.include_router(chat_events_router)
    document_events(app)
    return app
