"""How SLS items become log lines, and how a window is read from `from`/`to`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.kit.errors import InvalidInput
from service.logs.gateway import RawLog
from service.logs.service import line_of, sls_query
from service.logs.window import window

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
RID = "1-6b168caa-92389a2a-846087d1ad703792"


@pytest.mark.parametrize(
    ("message", "request_id", "level"),
    [
        (f"FC Invoke Start RequestId: {RID}", RID, None),
        (f"2026-12-07T10:00:00.123Z {RID} [ERROR] it broke", RID, "ERROR"),
        ("print() output", None, None),
        ("a [warning] in passing", None, "WARNING"),
    ],
)
def test_request_id_and_level_come_from_the_message_when_sls_has_no_field(
    message: str, request_id: str | None, level: str | None
) -> None:
    # Real FC logs may carry no requestId field: the message is all there is.
    line = line_of(RawLog(1796637600, "10.0.0.1", {"message": message, "instanceID": "c-1"}))
    assert (line.request_id, line.level, line.instance_id) == (request_id, level, "c-1")
    assert line.time == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_request_id_field_wins() -> None:
    line = line_of(RawLog(0, "", {"message": "plain", "requestId": RID}))
    assert line.request_id == RID


def test_the_sls_query_joins_request_id_and_query() -> None:
    assert sls_query(None, None) == ""
    assert sls_query(RID, None) == f'"{RID}"'
    assert sls_query(None, " error ") == "error"
    assert sls_query(RID, "error or warn") == f'"{RID}" and (error or warn)'


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (NOW - timedelta(minutes=15), NOW)),
        ("2h", "30m", (NOW - timedelta(hours=2), NOW - timedelta(minutes=30))),
        ("1d", "now", (NOW - timedelta(days=1), NOW)),
        ("2026-12-07T09:00:00", None, (NOW - timedelta(hours=1), NOW)),
        ("2026-12-07T17:00:00+08:00", None, (NOW - timedelta(hours=1), NOW)),
        ("1796634000", None, (datetime.fromtimestamp(1796634000, UTC), NOW)),
    ],
)
def test_window_forms(
    start: str | None, end: str | None, expected: tuple[datetime, datetime]
) -> None:
    span = window(start, end, NOW)
    assert (span.start, span.end) == expected
    assert span.to_s == int(span.end.timestamp()) + 1  # SLS's `to` is exclusive


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("soon", None, "from"),
        (None, "10x", "to"),
        ("5m", "10m", "from"),
        ("32d", None, "from"),
        ("99999999999999999", None, "from"),
        ("9999999d", None, "from"),  # before year 1: no datetime, no 500
        (None, "0001-01-01T00:00:00Z", "to"),
    ],
)
def test_bad_windows_name_their_field(start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        window(start, end, NOW)
    assert refused.value.extra["field"] == field
