"""The names the API takes everywhere: fcplane account aliases and FC resource names.

One spelling of each rule for every place such a name comes in (a path or
query parameter, a body field), so that they cannot drift apart. Each helper
returns the constraints as FastAPI's ``Path`` or ``Query`` or pydantic's
``Field``, for ``Annotated``::

    AccountPath = Annotated[str, account_alias(Path, "Alias of ...")]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# An fcplane account alias: lower-case letters, digits, _ and -.
ACCOUNT_ALIAS_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# An FC function (alias, trigger) name: letters, digits, _ and -, not starting
# with a digit or -.
FC_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
# The longest account alias, and the longest FC function name.
NAME_MAX_LENGTH = 64


def account_alias(kind: Callable[..., Any], description: str | None = None) -> Any:
    """An account alias as ``kind`` (``Path``, ``Query`` or ``Field``)."""
    return kind(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        pattern=ACCOUNT_ALIAS_PATTERN,
        description=description,
    )


def fc_name(
    kind: Callable[..., Any], description: str | None = None, max_length: int = NAME_MAX_LENGTH
) -> Any:
    """An FC function name (or, with its own ``max_length``, an alias name) as ``kind``."""
    return kind(
        min_length=1, max_length=max_length, pattern=FC_NAME_PATTERN, description=description
    )
