"""FC's answers as fcplane domain errors (rendered as problem+json by the API).

Each carries FC's own error code, message and request id, so a user can quote
them to Alibaba Cloud support; none carries credentials.
"""

from __future__ import annotations

from service.kit.errors import AlreadyExists, DomainError, InvalidInput, NotFound


class FcNotFound(NotFound):
    code = "fc_not_found"


class FcAlreadyExists(AlreadyExists):
    code = "fc_already_exists"


class FcInvalidArgument(InvalidInput):
    """FC rejected the request; the detail is FC's own reason."""

    code, title = "fc_invalid_argument", "Function Compute rejected the request"


class FcThrottled(DomainError):
    status, code, title = 429, "fc_throttled", "Function Compute is throttling requests"


class FcAuthFailed(DomainError):
    """The account's credentials were refused: an operator must fix the account."""

    status, code, title = 502, "fc_auth_failed", "Function Compute refused the credentials"


class FcServerError(DomainError):
    status, code, title = 502, "fc_error", "Function Compute failed"


class FcUnreachable(DomainError):
    status, code, title = 502, "fc_unreachable", "Function Compute could not be reached"
