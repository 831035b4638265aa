"""Attack tests: fcplane's new endpoints driven as an outsider would, against a live FC
emulator (the deploy tests' fixtures) and a database pool smaller than the load."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from service.kit.settings import Settings
from tests.chatops import support
from tests.conftest import TEST_SECRET_KEY
from tests.deploys.conftest import emulator, fc, fc_account
from tests.fc import SK

__all__ = ["emulator", "fc", "fc_account"]

POOL_SIZE = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Two database connections for the whole app: any load is more than the pool."""
    return settings.model_copy(update={**support.FAST, "database_pool_size": POOL_SIZE})


def secrets_of(admin_token: str, *more: str) -> list[str]:
    """What must never appear in an answer."""
    return [
        TEST_SECRET_KEY,
        admin_token,
        SK,
        support.SLACK_SECRET,
        support.DINGTALK_SECRET,
        support.FEISHU_KEY,
        support.FEISHU_TOKEN,
        *more,
    ]


def assert_clean(response: httpx.Response, secrets: list[str]) -> None:
    """No secret, no stack trace, in the body or the headers."""
    text = response.text + json.dumps(dict(response.headers))
    for secret in secrets:
        assert secret not in text, (response.request.url, response.status_code)
    for trace in ("Traceback", 'File "/', "sqlalchemy.", "asyncpg.", "aiosqlite"):
        assert trace not in text, (response.request.url, response.text[:2000])


def assert_problem(
    response: httpx.Response, status: int | tuple[int, ...], secrets: list[str]
) -> dict[str, Any]:
    """A refusal: the expected 4xx, problem+json with a stable code and a detail."""
    allowed = (status,) if isinstance(status, int) else status
    where = (response.request.method, str(response.request.url)[:200])
    assert response.status_code in allowed, (where, response.status_code, response.text[:2000])
    assert response.headers["content-type"].startswith("application/problem+json"), (
        where,
        response.headers["content-type"],
    )
    problem: dict[str, Any] = response.json()
    assert isinstance(problem.get("code"), str), (where, problem)
    assert problem["code"]
    assert problem.get("detail"), (where, problem)
    assert problem.get("status") == response.status_code, (where, problem)
    assert_clean(response, secrets)
    return problem
