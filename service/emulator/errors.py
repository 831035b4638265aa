"""FC-style API errors: ``{"Code", "Message", "RequestId"}`` with the right status."""

from __future__ import annotations

import json

from starlette.responses import Response

THROTTLE_CODE = "ResourceThrottled"  # FC 3.0's exact throttling code is unconfirmed


class FCError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid(message: str) -> FCError:
    return FCError(400, "InvalidArgument", message)


def function_not_found(name: str) -> FCError:
    return FCError(404, "FunctionNotFound", f"function '{name}' does not exist.")


def not_found(code: str, message: str) -> FCError:
    return FCError(404, code, message)


def conflict(code: str, message: str) -> FCError:
    return FCError(409, code, message)


def throttled(message: str, retry_after_s: int) -> FCError:
    return FCError(429, THROTTLE_CODE, message, {"x-acs-retry-after": str(max(1, retry_after_s))})


def error_response(err: FCError, request_id: str) -> Response:
    body = json.dumps(
        {"Code": err.code, "Message": err.message, "RequestId": request_id},
        ensure_ascii=False,
    )
    headers = {"x-fc-request-id": request_id, **err.headers}
    return Response(body, status_code=err.status, headers=headers, media_type="application/json")
