"""Bad stress input is refused before anything runs: 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service.kit.errors import InvalidInput
from service.kit.settings import Settings
from service.loadtest.kind import STRESS, open_loop_users
from service.loadtest.schemas import StressParams


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"users": 0, "duration_s": 10}, "users"),
        ({"users": 5, "duration_s": 0}, "duration_s"),
        ({"users": 5, "duration_s": -3}, "duration_s"),
        ({"rps": 0, "duration_s": 10}, "rps"),
        ({"rps": -1, "duration_s": 10}, "rps"),
        ({"users": 5, "spawn_rate": 0, "duration_s": 10}, "spawn_rate"),
        ({"users": 5, "duration_s": 10, "method": "BREW"}, "method"),
        ({"users": 5, "duration_s": 10, "target": "ftp"}, "target"),
        ({"users": 5, "duration_s": 10, "target": "http", "path": "no-slash"}, "path"),
        ({"users": 5, "duration_s": 10, "payloads": []}, "payloads"),
        ({"users": 5, "duration_s": 10, "payloads": [{"body": "a", "weight": 0}]}, "payloads"),
        ({"users": 5, "duration_s": 10, "colour": "red"}, "colour"),
    ],
)
def test_schema_refuses(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        StressParams.model_validate(params)
    assert field in {str(part) for err in exc.value.errors() for part in err["loc"]}, exc.value


@pytest.mark.parametrize(
    "params",
    [
        {"duration_s": 10},  # neither users nor rps
        {"users": 1, "duration_s": 10, "payload": "a", "payloads": [{"body": "b"}]},
        {"users": 1, "duration_s": 10, "target": "invoke", "path": "/x"},
        {"users": 1, "duration_s": 10, "target": "http", "qualifier": "prod"},
    ],
)
def test_inconsistent_params(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StressParams.model_validate(params)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"users": 5, "duration_s": 3601}, "params.duration_s"),
        ({"users": 2001, "duration_s": 10}, "params.users"),
        ({"rps": 10_001, "duration_s": 10}, "params.rps"),
        ({"users": 5, "spawn_rate": 5000, "duration_s": 10}, "params.spawn_rate"),
    ],
)
async def test_absurd_values_are_bounded_by_settings(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        await STRESS.validate(StressParams.model_validate(params), {}, Settings())
    assert exc.value.status == 422
    assert exc.value.extra["field"] == field


async def test_bounds_follow_the_settings() -> None:
    params = StressParams(users=50, duration_s=10)
    await STRESS.validate(params, {}, Settings())
    with pytest.raises(InvalidInput):
        await STRESS.validate(params, {}, Settings(stress_max_users=10))


async def test_http_mode_needs_an_http_trigger() -> None:
    params = StressParams(target="http", users=1, duration_s=10)
    with pytest.raises(InvalidInput) as exc:
        await STRESS.validate(params, {"http_trigger_url": None}, Settings())
    assert exc.value.extra["field"] == "params.target"
    await STRESS.validate(params, {"http_trigger_url": "http://x/_trigger/f/t"}, Settings())


def test_open_loop_users_scale_with_rate() -> None:
    assert open_loop_users(1, 2000) == 1
    assert open_loop_users(100, 2000) == 25
    assert open_loop_users(100_000, 2000) == 2000
