"""The account that points at the embedded FC emulator (`fcplane serve` without flags)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from service.accounts.repository import AccountRepository
from service.accounts.schemas import AccountCreate, AccountUpdate
from service.accounts.service import create_account, update_account
from service.kit.crypto import SecretBox
from service.kit.db import Database

LOCAL_ALIAS = "local"
LOCAL_ACCOUNT_ID = "1234567890"
LOCAL_REGION = "cn-hangzhou"
_KEY_FILE = "access-key.json"


@dataclass(frozen=True)
class LocalEmulator:
    endpoint: str  # http://127.0.0.1:9000
    access_key_id: str
    access_key_secret: str
    sandbox: str = "bubblewrap"  # how it runs function code, for /readyz

    def __repr__(self) -> str:
        return f"LocalEmulator(endpoint={self.endpoint!r})"


def access_key_path(emulator_dir: Path) -> Path:
    """Where the embedded emulator's key pair is kept (0600; it holds the secret)."""
    return emulator_dir / _KEY_FILE


def local_access_key(emulator_dir: Path) -> tuple[str, str]:
    """A key pair generated once per data directory, so the local account survives restarts."""
    path = access_key_path(emulator_dir)
    if path.exists():
        data = json.loads(path.read_text())
        return str(data["access_key_id"]), str(data["access_key_secret"])
    emulator_dir.mkdir(parents=True, exist_ok=True)
    pair = {"access_key_id": "fcplane-local", "access_key_secret": secrets.token_urlsafe(24)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(pair, fh)
    return pair["access_key_id"], pair["access_key_secret"]


async def ensure_local_account(db: Database, box: SecretBox, emulator: LocalEmulator) -> None:
    """Create (or re-point) the `local` account; default only when no other default exists."""
    async with db.write() as session:
        accounts = AccountRepository(session)
        existing = await accounts.by_alias(LOCAL_ALIAS)
        if existing is None:
            request = AccountCreate(
                alias=LOCAL_ALIAS,
                account_id=LOCAL_ACCOUNT_ID,
                region=LOCAL_REGION,
                endpoint=emulator.endpoint,
                access_key_id=emulator.access_key_id,
                access_key_secret=emulator.access_key_secret,
                default=not await accounts.has_default(),
            )
            await create_account(accounts, box, request)
        elif (existing.endpoint, existing.access_key_id) != (
            emulator.endpoint,
            emulator.access_key_id,
        ):
            update = AccountUpdate(
                endpoint=emulator.endpoint,
                access_key_id=emulator.access_key_id,
                access_key_secret=emulator.access_key_secret,
            )
            await update_account(accounts, box, LOCAL_ALIAS, update)
