"""The request id of the work at hand: an API request's X-Request-ID, carried into the
jobs and webhook deliveries it causes so that their log lines lead back to it.

asgi-correlation-id's middleware sets the context variable for each request; a job
attempt or a delivery binds the id it stored with :func:`bound_request_id`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from asgi_correlation_id import correlation_id

HEADER = "X-Request-ID"


def current_request_id() -> str | None:
    """The id of the request (or the job/delivery) this code runs for, if any."""
    return correlation_id.get()


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Run a block (a job attempt, a webhook delivery) under a stored request id."""
    token = correlation_id.set(request_id)
    try:
        yield
    finally:
        correlation_id.reset(token)
