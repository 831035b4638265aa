"""Maintenance of the tokens table, run by the job worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_

from service.jobs.context import WorkerContext
from service.models import ApiToken
from service.models.base import utcnow

log = logging.getLogger(__name__)

# Revoked and expired tokens stay listed in the database for a while so an
# operator can still tell which token a past request came from.
RETENTION = timedelta(days=30)


async def purge_stale_tokens(ctx: WorkerContext) -> int:
    """Delete tokens revoked or expired more than RETENTION ago; safe to run twice."""
    cutoff = utcnow() - RETENTION
    async with ctx["sessions"].begin() as session:
        result = await session.execute(
            delete(ApiToken).where(or_(ApiToken.revoked_at < cutoff, ApiToken.expires_at < cutoff))
        )
    purged = int(getattr(result, "rowcount", 0) or 0)
    log.info("purged %d stale tokens", purged)
    return purged
