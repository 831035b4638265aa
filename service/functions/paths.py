"""How the API addresses a function: ``/v1/accounts/{account}/functions/{name}``.

A function's identity is (account, name), as on FC, where the same name lives
in a test and a prod account, or in two regions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from service.models.function import FunctionRef

FUNCTION_PREFIX = "/v1/accounts/{account}/functions/{name}"

AccountPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Alias of the fcplane account the function lives in.",
    ),
]
NamePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$",
        description="The FC function name.",
    ),
]


async def _function_ref(account: AccountPath, name: NamePath) -> FunctionRef:
    return FunctionRef(account, name)


FunctionPath = Annotated[FunctionRef, Depends(_function_ref)]
