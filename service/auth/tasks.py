"""Maintenance of the tokens table, run by the job worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from service.auth.service import TokenService
from service.jobs.context import WorkerContext

log = logging.getLogger(__name__)

# Revoked and expired tokens stay listed in the database for a while so an
# operator can still tell which token a past request came from.
RETENTION = timedelta(days=30)


async def purge_stale_tokens(ctx: WorkerContext) -> int:
    """Delete tokens revoked or expired more than RETENTION ago; safe to run twice."""
    purged = await TokenService(ctx["db"]).purge(RETENTION)
    log.info("purged %d stale tokens", purged)
    return purged
