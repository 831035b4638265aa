"""What can go wrong in a client command, as one line for the user and an exit code."""

from __future__ import annotations

from typing import Any

# Exit codes, as terraform's: 0 success (no changes), 1 error, 2 success with changes.
OK, FAILED, CHANGES = 0, 1, 2


class ClientError(Exception):
    """A failure the user can act on: printed as ``fcplane: <message>``, never a traceback."""

    def __init__(self, message: str, *, exit_code: int = FAILED, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, **self.details}


class ApiError(ClientError):
    """The API answered with an error (application/problem+json)."""

    def __init__(self, status: int, body: dict[str, Any], message: str) -> None:
        code = body.get("code")
        super().__init__(message, status=status, code=code)
        self.status = status
        self.code = code
        self.body = body


def problem_message(status: int, body: dict[str, Any], what: str) -> str:
    """One line from a problem+json body: its detail, its code and the status."""
    if status == 401:
        return (
            f"the server refused the credentials (HTTP 401, {what}): set FCPLANE_TOKEN or run "
            "`fcplane login`"
        )
    detail = body.get("detail") or body.get("title") or "no details"
    code = body.get("code")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        shown = [f"{e.get('field')}: {e.get('message')}" for e in errors[:3]]
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        detail = "; ".join(shown) + more
    label = f"{code}, HTTP {status}" if code else f"HTTP {status}"
    return f"{' '.join(str(detail).split())} ({label})"
