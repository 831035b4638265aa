from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.accounts.service import Credentials
from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.emulator.server import EmbeddedEmulator, start_in_thread
from service.kit.settings import Settings
from tests.loadtest.support import AK, SK


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with start_in_thread("127.0.0.1", 0, tmp_path_factory.mktemp("fc"), {AK: SK}) as emu:
        yield emu


@pytest.fixture
def access(emulator: EmbeddedEmulator) -> Iterator[FcAccess]:
    yield FcAccess("local", "1234567890", "cn-hangzhou", emulator.url, Credentials(AK, SK, None))
    httpx.post(f"{emulator.url}/_emulator/reset", json={"state": True}).raise_for_status()


@pytest.fixture
def gateway() -> FcGateway:
    return FcGateway()


@pytest.fixture
def job_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")
