from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cloud.access import FcAccess
from service.cloud.gateway import FcGateway
from service.emulator.server import EmbeddedEmulator
from service.kit.settings import Settings
from tests.fc import access_to, reset, running_emulator


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    with running_emulator(tmp_path_factory.mktemp("fc")) as emulator:
        yield emulator


@pytest.fixture
def access(emulator: EmbeddedEmulator) -> Iterator[FcAccess]:
    yield access_to(emulator)
    reset(emulator)


@pytest.fixture
def gateway() -> FcGateway:
    return FcGateway()


@pytest.fixture
def job_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")
