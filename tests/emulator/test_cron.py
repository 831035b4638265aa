"""FC's timer schedule grammar (service.emulator.cron), without an emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.emulator.cron import parse_duration, parse_schedule

NOW = datetime(2023, 12, 26, 7, 48, 30, 500000, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("@every 1s", "2023-12-26T07:48:31"),
        ("@every 1m", "2023-12-26T07:49:30"),
        ("@every 1h30m", "2023-12-26T09:18:30"),
        ("0 0 8 * * *", "2023-12-26T08:00:00"),
        ("*/15 * * * * *", "2023-12-26T07:48:45"),
        ("0 */5 * * * ?", "2023-12-26T07:50:00"),
        ("0 0 12 * * MON-FRI", "2023-12-26T12:00:00"),
        ("0 0 12 ? * sat,SUN", "2023-12-30T12:00:00"),
        ("0 30 9 1,15 * 5", "2023-12-29T09:30:00"),  # day 1 or 15, or any Friday
        ("0 0 0 29 FEB *", "2024-02-29T00:00:00"),
        ("10/20 * * * * *", "2023-12-26T07:48:50"),
        ("CRON_TZ=Asia/Shanghai 0 0 8 * * *", "2023-12-27T00:00:00"),
        ("@daily", "2023-12-27T00:00:00"),
        ("@hourly", "2023-12-26T08:00:00"),
    ],
)
def test_next_firing_time(expression: str, expected: str) -> None:
    found = parse_schedule(expression).next_after(NOW)
    assert found is not None
    assert found.strftime("%Y-%m-%dT%H:%M:%S") == expected


def test_never_firing_expression() -> None:
    assert parse_schedule("0 0 0 31 2 *").next_after(NOW) is None


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "* * * * * * *",
        "60 * * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "? * * * * *",
        "5-1 * * * * *",
        "*/0 * * * * *",
        "x * * * * *",
        "0 0 0 * FOO *",
        "@every",
        "@every 500ms",
        "@every 5d",
        "@weekdays",
        "CRON_TZ=Mars/Base 0 0 8 * * *",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every message differs
        parse_schedule(expression)


def test_go_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1.5h") == 5400
    assert parse_duration("90s") == 90
    assert parse_duration("1500ms") == 1.5
