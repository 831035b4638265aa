"""FC timer schedules: ``@every <duration>`` and 6-field cron ``sec min hour day month weekday``.

FC's timer triggers take the forms of the Go cron library FC's scheduler is
built on (robfig/cron): ``@every 1h30m`` (a Go duration, truncated to whole
seconds) and six space-separated fields in UTC, seconds first, each a ``*``,
a value, a range ``a-b`` or a list ``a,b``, optionally stepped ``*/5``,
``10-40/10``, ``3/15``; ``?`` stands for "any" in day-of-month and weekday;
months and weekdays also by name (JAN-DEC, SUN-SAT, Sunday is 0). When both
day-of-month and weekday are restricted a day matching either fires (as in
classic cron). A ``CRON_TZ=<IANA zone>`` prefix evaluates the fields in that
zone, and ``@yearly``/``@monthly``/``@weekly``/``@daily``/``@hourly`` are
shorthands, both as in that library.

No dependency: the popular parser (croniter) is deprecated and the maintained
ones read 5-field cron without seconds, so the few lines here are what FC's
grammar needs. ``next_after`` walks field by field (the library's algorithm),
so even a yearly schedule is found in a few hundred steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.emulator.errors import invalid

_SHORTHANDS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_WEEKDAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
# (name, low, high, names, "?" allowed)
_FIELDS: tuple[tuple[str, int, int, dict[str, int], bool], ...] = (
    ("seconds", 0, 59, {}, False),
    ("minutes", 0, 59, {}, False),
    ("hours", 0, 23, {}, False),
    ("day-of-month", 1, 31, {}, True),
    ("month", 1, 12, _MONTHS, False),
    ("day-of-week", 0, 6, _WEEKDAYS, True),
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
# Searching further than this for a match means the expression never fires
# (e.g. "0 0 0 30 2 *"), as in the library.
_SEARCH_YEARS = 5


class Schedule:
    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing time strictly after ``moment`` (aware, UTC); None: never."""
        raise NotImplementedError


@dataclass(frozen=True)
class Every(Schedule):
    seconds: int

    def next_after(self, moment: datetime) -> datetime | None:
        return moment.replace(microsecond=0) + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron(Schedule):
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # day-of-month or weekday was "*"/"?": both must match, else either
    zone: ZoneInfo | None = None

    def next_after(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.zone or UTC).replace(tzinfo=None, microsecond=0)
        found = self._next_wall_time(local + timedelta(seconds=1))
        if found is None:
            return None
        return found.replace(tzinfo=self.zone or UTC).astimezone(UTC)

    def _day_matches(self, t: datetime) -> bool:
        day = t.day in self.days
        weekday = (t.weekday() + 1) % 7 in self.weekdays
        return (day and weekday) if self.any_day else (day or weekday)

    def _next_wall_time(self, t: datetime) -> datetime | None:
        limit = t.year + _SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
                continue
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            if t.second not in self.seconds:
                t += timedelta(seconds=1)
                continue
            return t
        return None


def _first_of_next_month(t: datetime) -> datetime:
    if t.month == 12:
        return datetime(t.year + 1, 1, 1)
    return datetime(t.year, t.month + 1, 1)


def parse_duration(text: str) -> float:
    """A Go duration (``1h30m``, ``1.5h``, ``90s``) in seconds."""
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h30m")
    return total


def _parse_value(raw: str, names: dict[str, int], what: str) -> int:
    upper = raw.upper()
    if upper in names:
        return names[upper]
    if not raw.isdigit():
        raise ValueError(f"{what} value {raw!r} is not a number")
    return int(raw)


def _parse_field(text: str, field: tuple[str, int, int, dict[str, int], bool]) -> set[int] | None:
    """The set of values a field allows; None for a bare "*" or "?" (any)."""
    what, low, high, names, question_ok = field
    if text == "*" or (text == "?" and question_ok):
        return None
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{what} step {step_text!r} must be a positive number")
            step = int(step_text)
        if span in ("*", "?"):
            if span == "?" and not question_ok:
                raise ValueError("'?' is only allowed in day-of-month and day-of-week")
            start, end = low, high
        elif "-" in span:
            a, _, b = span.partition("-")
            start, end = _parse_value(a, names, what), _parse_value(b, names, what)
        else:
            start = _parse_value(span, names, what)
            end = high if slash else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"{what} {span!r} is out of range {low}-{high}")
        if start > end:
            raise ValueError(f"{what} range {span!r} runs backwards")
        values.update(range(start, end + 1, step))
    return values


def _parse_cron(text: str, zone: ZoneInfo | None) -> Cron:
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(
            f"a cron expression has 6 fields (seconds minutes hours day-of-month month "
            f"day-of-week), this one has {len(fields)}"
        )
    parsed = [_parse_field(f, spec) for f, spec in zip(fields, _FIELDS, strict=True)]
    full = [frozenset(range(low, high + 1)) for _, low, high, _, _ in _FIELDS]
    sets = [full[i] if p is None else frozenset(p) for i, p in enumerate(parsed)]
    return Cron(
        seconds=sets[0],
        minutes=sets[1],
        hours=sets[2],
        days=sets[3],
        months=sets[4],
        weekdays=sets[5],
        any_day=parsed[3] is None or parsed[5] is None,
        zone=zone,
    )


def parse_schedule(expression: str) -> Schedule:
    """Parse FC's ``cronExpression``; ValueError says what is wrong."""
    text = expression.strip()
    zone = None
    if text.startswith("CRON_TZ=") or text.startswith("TZ="):
        zone_name, _, text = text.partition("=")[2].partition(" ")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone_name!r}") from None
        text = text.strip()
    if text.startswith("@every"):
        if zone is not None:
            raise ValueError("a time zone makes no sense with @every")
        seconds = int(parse_duration(text[len("@every") :].strip()))
        if seconds < 1:
            raise ValueError("@every needs an interval of at least 1s")
        return Every(seconds)
    if text.startswith("@"):
        if text not in _SHORTHANDS:
            raise ValueError(f"unknown descriptor {text!r}: @every <duration> or 6 cron fields")
        text = _SHORTHANDS[text]
    return _parse_cron(text, zone)


def check_cron_expression(expression: object) -> Schedule:
    """parse_schedule for API input: FC's InvalidArgument for anything it would refuse."""
    if not isinstance(expression, str) or not expression.strip():
        raise invalid("triggerConfig.cronExpression is required (a string)")
    try:
        schedule = parse_schedule(expression)
    except ValueError as exc:
        raise invalid(f"triggerConfig.cronExpression {expression!r} is invalid: {exc}") from None
    if schedule.next_after(datetime.now(UTC)) is None:
        raise invalid(f"triggerConfig.cronExpression {expression!r} never fires")
    return schedule
