"""The time window a log read covers: ``from``/``to`` as ISO 8601, epoch seconds or relative.

``15m`` means fifteen minutes before now (units s, m, h, d); ``now`` is now; an
ISO 8601 time without an offset is UTC. The window is half-open, as SLS's is.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.kit.errors import InvalidInput

DEFAULT_SPAN = timedelta(minutes=15)
MAX_SPAN = timedelta(days=31)
_RELATIVE = re.compile(r"^(\d{1,7})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TIME_FORMS = "ISO 8601 (2026-12-07T10:00:00Z), epoch seconds, `now`, or relative: 30s, 15m, 2h, 1d"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def from_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def to_s(self) -> int:
        """SLS's ``to`` is exclusive and in whole seconds: round up to include the last line."""
        return int(self.end.timestamp()) + 1


def parse_time(raw: str, field: str, now: datetime) -> datetime:
    text = raw.strip()
    if text == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        try:
            return now - timedelta(seconds=int(relative.group(1)) * _UNITS[relative.group(2)])
        except OverflowError:
            raise InvalidInput(f"{field}: {text} is out of range", field=field) from None
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput(f"{field}: {text} is out of range", field=field) from None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field}: not a time; use {TIME_FORMS}", field=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window(start: str | None, end: str | None, now: datetime | None = None) -> Window:
    """The window from the query; 422 naming the field for a bad or reversed one."""
    now = now or datetime.fromtimestamp(time.time(), UTC)
    until = parse_time(end, "to", now) if end is not None else now
    if until.year < 1970:
        raise InvalidInput("to is before 1970", field="to")
    since = parse_time(start, "from", now) if start is not None else until - DEFAULT_SPAN
    if since >= until:
        raise InvalidInput("from must be before to", field="from")
    if until - since > MAX_SPAN:
        raise InvalidInput(f"from..to spans more than {MAX_SPAN.days} days", field="from")
    if since.year < 1970:
        raise InvalidInput("from is before 1970", field="from")
    return Window(since, until)
