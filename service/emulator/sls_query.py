"""The part of SLS's search syntax the emulator's GetLogs honours, and its log items.

Function logs are kept per invocation (observability.FunctionLogs); FC ships
them to the function's logstore as one item per line (or per multi-line
record when ``logBeginRule`` is ``DefaultRegex``) under the topic
``FCLogs:<function>``. That is what ``items_of`` builds.

Search, as SLS does it, is on tokens, case-insensitively, split at SLS's default
delimiters: a keyword (``timeout``), a quoted phrase (``"connection reset"``,
consecutive tokens), a trailing ``*`` for a prefix (``time*``), a field
condition (``requestId: 1-abc``, ``__topic__: "FCLogs:fn"``) and ``*`` for all,
joined by whitespace or ``and`` (parentheses around them change nothing).
``or``, ``not``, ranges and the ``| SELECT ...`` analytics part are refused
with SLS's ``ParameterInvalid`` rather than answered wrongly.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.emulator.observability import LogEntry

# SLS's default token delimiters for full-text and text fields.
_DELIMITERS = re.compile(r"[\s,'\";=()\[\]{}?@&<>/:]+")
# What FC's DefaultRegex rule takes for the first line of a record: a leading date.
_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_UNSUPPORTED_WORDS = {"or", "not"}
_FIELD = re.compile(r"^([A-Za-z_][\w.]*)\s*:\s*(.*)$", re.S)


class UnsupportedQuery(ValueError):
    """The query uses SLS syntax the emulator does not implement."""


def tokens(text: str) -> list[str]:
    return [t for t in _DELIMITERS.split(text.lower()) if t]


@dataclass(frozen=True)
class Term:
    field: str | None  # None: any field (full text)
    words: tuple[str, ...]  # consecutive tokens; the last may be a prefix
    prefix: bool

    def matches(self, item: dict[str, Any]) -> bool:
        if self.field is not None:
            value = item.get(self.field)
            return value is not None and self._in(tokens(str(value)))
        return any(self._in(tokens(str(v))) for k, v in item.items() if k not in ("__time__",))

    def _in(self, found: list[str]) -> bool:
        *head, last = self.words
        n = len(self.words)
        for start in range(len(found) - n + 1):
            *seen, end = found[start : start + n]
            if seen == head and (end.startswith(last) if self.prefix else end == last):
                return True
        return False


def _term(field: str | None, raw: str) -> Term | None:
    prefix = raw.endswith("*")
    words = tokens(raw.rstrip("*"))
    if not words:
        if raw.strip() == "*" and field is None:
            return None  # `*`: everything
        raise UnsupportedQuery(f"cannot search for {raw!r}")
    return Term(field, tuple(words), prefix)


def parse(query: str | None) -> list[Term]:
    """The terms of ``query`` (all must match); UnsupportedQuery for syntax not implemented."""
    if not query or not query.strip():
        return []
    if "|" in query:
        raise UnsupportedQuery("analytic statements (`| SELECT ...`) are not supported")
    try:
        parts = shlex.split(query, posix=True)
    except ValueError as exc:
        raise UnsupportedQuery(f"cannot parse the query: {exc}") from None
    terms: list[Term] = []
    pending_field: str | None = None
    for part in parts:
        # Grouping changes nothing when every term must match: `(a b)` is `a b`.
        part = part.lstrip("(").rstrip(")")
        lowered = part.lower()
        if not part:
            continue
        if lowered == "and" and pending_field is None:
            continue
        if lowered in _UNSUPPORTED_WORDS or part.startswith("-"):
            raise UnsupportedQuery(f"`{part}` is not supported: only AND of terms is")
        if pending_field is not None:
            found = _term(pending_field, part)
            pending_field = None
        elif part.endswith(":") and _FIELD.match(part):
            pending_field = part[:-1].strip()
            continue
        elif (field := _FIELD.match(part)) and field.group(2):
            found = _term(field.group(1), field.group(2))
        else:
            found = _term(None, part)
        if found is not None:
            terms.append(found)
    if pending_field is not None:
        raise UnsupportedQuery(f"`{pending_field}:` has no value")
    return terms


def _records(text: str, begin_rule: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    if begin_rule != "DefaultRegex":
        return lines
    records: list[str] = []
    for line in lines:
        if records and not _RECORD_START.match(line):
            records[-1] += "\n" + line
        else:
            records.append(line)
    return records


def items_of(entry: LogEntry, begin_rule: str) -> Iterable[dict[str, Any]]:
    """The logstore items FC writes for one invocation's log."""
    for message in _records(entry.log, begin_rule):
        yield {
            "__time__": int(entry.timestamp),
            "__source__": entry.instance_id,
            "__topic__": f"FCLogs:{entry.function_name}",
            "functionName": entry.function_name,
            "qualifier": entry.qualifier,
            "instanceID": entry.instance_id,
            "requestId": entry.request_id,
            "message": message,
        }


def select(items: Iterable[dict[str, Any]], terms: list[Term]) -> list[dict[str, Any]]:
    return [item for item in items if all(t.matches(item) for t in terms)]
