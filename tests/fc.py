"""A live FC emulator for tests, and fcplane's access to it (official SDK, real HTTP).

Fixtures that need one start it with `running_emulator` at the scope they need
(a module's, a session's) and reach it through `access_to`.
"""

from __future__ import annotations

import base64
import io
import textwrap
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from service.cloud.access import Credentials, FcAccess
from service.emulator.credentials import admin_bearer
from service.emulator.server import EmbeddedEmulator, start_in_thread

AK, SK = "test-ak", "test-secret-0123456789"
# The emulator's admin API (/_emulator/) takes a bearer derived from its access key.
ADMIN_HEADERS = {"Authorization": f"Bearer {admin_bearer(AK, SK)}"}
ACCOUNT_ID, REGION = "1234567890", "cn-hangzhou"


@contextmanager
def running_emulator(data_dir: Path) -> Iterator[EmbeddedEmulator]:
    with start_in_thread("127.0.0.1", 0, data_dir, {AK: SK}) as emulator:
        yield emulator


def access_to(emulator: EmbeddedEmulator) -> FcAccess:
    return FcAccess("local", ACCOUNT_ID, REGION, emulator.url, Credentials(AK, SK, None))


async def register_account(client: httpx.AsyncClient, emulator: EmbeddedEmulator) -> str:
    """Make the emulator fcplane's default account `local`, through the API."""
    response = await client.post(
        "/v1/accounts",
        json={
            "alias": "local",
            "account_id": ACCOUNT_ID,
            "region": REGION,
            "endpoint": emulator.url,
            "access_key_id": AK,
            "access_key_secret": SK,
            "default": True,
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/accounts/local"
    return "local"


def reset(emulator: EmbeddedEmulator) -> None:
    """Forget every function, config and fault, so the next test starts clean."""
    httpx.post(
        f"{emulator.url}/_emulator/reset", json={"state": True}, headers=ADMIN_HEADERS
    ).raise_for_status()


def inject(emulator: EmbeddedEmulator, **rule: Any) -> None:
    """A fault rule (see the README's emulator admin API): fail or delay FC calls."""
    httpx.post(
        f"{emulator.url}/_emulator/faults", json=rule, headers=ADMIN_HEADERS
    ).raise_for_status()


def zip_b64(files: dict[str, str]) -> str:
    """A code package as CreateFunction's `code.zipFile` takes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return base64.b64encode(buffer.getvalue()).decode()
