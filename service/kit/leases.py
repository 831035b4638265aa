"""The lease rule, written once: a lease is held until its expiry, and no expiry means none.

Deploy claims, running jobs and webhook deliveries are owned through leases
that a live owner renews; a lease whose owner died simply runs out. A row with
an owner but no expiry cannot be held forever, so it counts as expired too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_


def held(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at > now


def expired_sql(expires_at: Any, now: datetime) -> ColumnElement[bool]:
    """``not held`` as a SQL condition on the expiry column."""
    return or_(expires_at.is_(None), expires_at <= now)
