"""ORM models under one metadata; importing this package registers them all."""

from service.models.account import Account
from service.models.base import Base
from service.models.function import Function
from service.models.token import ApiToken

__all__ = ["Account", "ApiToken", "Base", "Function"]
