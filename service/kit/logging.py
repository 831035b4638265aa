"""Process-wide logging setup: plain lines or JSON objects, each with its request id.

``FCPLANE_LOG_FORMAT=text`` writes ``time LEVEL logger [request-id]: message``;
``json`` writes one JSON object per line (python-json-logger) with the fields
``level``, ``logger``, ``message``, ``request_id`` and ``time`` (ISO 8601, UTC), the
``extra`` fields a call passes, and ``exc_info`` for an exception (plus ``client``,
``method``, ``path``, ``http_version`` and ``status`` on uvicorn's access lines).
The request id is the X-Request-ID of the API request being served, or the one
a job attempt or webhook delivery was stored with (kit.request_id); records
written outside any request carry ``-`` in text and null in JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service.kit.request_id import current_request_id
from service.kit.settings import LogFormat, LogLevel

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_JSON_FIELDS = ("levelname", "name", "message", "request_id")
_JSON_NAMES = {"levelname": "level", "name": "logger"}
# uvicorn adds an ANSI-coloured copy of some messages for its own console formatter.
_JSON_SKIPPED = (*RESERVED_ATTRS, "color_message")
ACCESS_LOGGER = "uvicorn.access"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record a handler formats (``request_id``)."""

    def __init__(self, missing: str | None = "-") -> None:
        super().__init__()
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or self.missing
        return True


class AccessFields(logging.Filter):
    """uvicorn's access line as fields: client, method, path, http_version, status.

    uvicorn logs it as ``'%s - "%s %s HTTP/%s" %d'`` with those five arguments;
    a JSON consumer should not have to parse the message back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            if len(record.args) == 5:
                client, method, path, version, status = record.args
                record.client, record.method, record.path = client, method, path
                record.http_version, record.status = version, status
        return True


def log_handler(log_format: LogFormat) -> logging.StreamHandler[TextIO]:
    """The stderr handler of ``log_format``: its formatter and the request id filter."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format is LogFormat.JSON:
        handler.addFilter(RequestIdFilter(missing=None))
        handler.addFilter(AccessFields())
        handler.setFormatter(
            JsonFormatter(
                list(_JSON_FIELDS),
                rename_fields=_JSON_NAMES,
                reserved_attrs=list(_JSON_SKIPPED),
                timestamp="time",  # ISO 8601 in UTC, with microseconds
            )
        )
    else:
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.set_name("fcplane")
    return handler


def configure_logging(level: LogLevel, log_format: LogFormat) -> None:
    """Log to stderr at ``level`` in ``log_format`` (``FCPLANE_LOG_FORMAT``).

    uvicorn's own loggers (``uvicorn.error``, ``uvicorn.access``) propagate to this
    handler when uvicorn runs with ``log_config=None``, as `fcplane serve` does.
    """
    root = logging.getLogger()
    # Replace only what an earlier call installed: a test runner's capture stays.
    for old in [h for h in root.handlers if h.get_name() == "fcplane"]:
        root.removeHandler(old)
    root.addHandler(log_handler(log_format))
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; chat-robot webhook URLs carry their
    # access token in the query string, and secrets never go to the logs.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A malformed X-Request-ID is the client's mistake, answered with a generated id
    # (in the response header); one warning per such request would flood the log.
    logging.getLogger("asgi_correlation_id").setLevel(logging.ERROR)
