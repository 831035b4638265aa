"""Process-wide logging setup (plain, one line per record)."""

from __future__ import annotations

import logging

from service.kit.settings import LogLevel


def configure_logging(level: LogLevel) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger().setLevel(level.upper())
    # httpx logs every request URL at INFO; chat-robot webhook URLs carry their
    # access token in the query string, and secrets never go to the logs.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
