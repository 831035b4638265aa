"""How the API addresses a function: ``/v1/accounts/{account}/functions/{name}``.

A function's identity is (account, name), as on FC, where the same name lives
in a test and a prod account, or in two regions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from service.kit.names import account_alias, fc_name
from service.models.function import FunctionRef

FUNCTION_PREFIX = "/v1/accounts/{account}/functions/{name}"


def function_path(ref: FunctionRef) -> str:
    """The API path of a function: ``/v1/accounts/prod/functions/orders``."""
    return FUNCTION_PREFIX.format(account=ref.account, name=ref.name)


# A function name wherever it is given: in the path, in a request body.
FUNCTION_NAME_DESCRIPTION = (
    "FC function name: letters, digits, _ and -, not starting with a digit or -."
)

AccountPath = Annotated[
    str, account_alias(Path, "Alias of the fcplane account the function lives in.")
]
NamePath = Annotated[str, fc_name(Path, FUNCTION_NAME_DESCRIPTION)]


async def _function_ref(account: AccountPath, name: NamePath) -> FunctionRef:
    return FunctionRef(account, name)


FunctionPath = Annotated[FunctionRef, Depends(_function_ref)]
