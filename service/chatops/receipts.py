"""Replay protection: every verified request leaves its keys (signature, event id,
message id); a request whose key is already there is a replay and is not executed.

Receipts are kept longer than any platform's timestamp window (Slack 5 minutes,
DingTalk and Feishu an hour), so a replay cannot outlive its receipt.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from service.chatops.repository import ReceiptRepository
from service.kit.db import Database
from service.models.base import utcnow

RETENTION = timedelta(days=2)
# Old receipts are deleted by one request in this many (no scheduler needed).
_PURGE_ONE_IN = 200


async def first_time(db: Database, integration_id: int, keys: Iterable[str]) -> bool:
    """Record ``keys``; False when any of them was recorded before (a replay)."""
    now = utcnow()
    async with db.write() as session:
        receipts = ReceiptRepository(session)
        fresh = True
        for key in dict.fromkeys(keys):
            fresh = await receipts.claim(integration_id, key[:128], now) and fresh
        if random.randrange(_PURGE_ONE_IN) == 0:
            await receipts.purge(now - RETENTION)
    return fresh
