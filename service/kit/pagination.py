"""One list envelope and one keyset-pagination dependency for every collection."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from service.kit.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class InvalidCursor(InvalidInput):
    """A cursor this API did not hand out (or one for another list)."""

    code, title = "invalid_cursor", "Invalid cursor"

    def __init__(self) -> None:
        super().__init__(
            "cursor: not a cursor returned by this list; start again without one",
            field="cursor",
        )


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page."
    )


class PageParams(BaseModel):
    limit: int
    after: str | int | None  # the sort key of the last item already seen

    def after_int(self) -> int | None:
        if self.after is None or isinstance(self.after, int):
            return self.after
        raise InvalidCursor()

    def after_str(self) -> str | None:
        if self.after is None or isinstance(self.after, str):
            return self.after
        raise InvalidCursor()

    def trim(self, rows: list[T], key: Callable[[T], str | int]) -> tuple[list[T], str | None]:
        """Trim a ``limit + 1`` fetch to ``limit`` and derive the next cursor."""
        if len(rows) <= self.limit:
            return rows, None
        kept = rows[: self.limit]
        return kept, encode_cursor(key(kept[-1]))


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str | int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(after, str | int) or isinstance(after, bool):
        raise InvalidCursor()
    return after


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=512,
            description="`next_cursor` of the previous page: an opaque string. Anything else "
            "is refused with 422 and code `invalid_cursor`.",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=_decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(_page_params)]
