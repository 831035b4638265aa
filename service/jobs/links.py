"""Signed, expiring links to a job's report: open in a browser, no bearer token.

The signature is HMAC-SHA256 over the job id and the expiry (Unix seconds), under a key
derived (HKDF, its own `info`) from the server's secret key: the raw secret key signs
nothing, and a link signature can never be replayed as anything else. A link grants
read access to that one job's reports until it expires; it cannot be extended or
pointed at another job without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from service.kit.crypto import purpose_key
from service.kit.errors import DomainError
from service.kit.settings import Settings

LINK_KEY_INFO = b"fcplane/report-links/v1"
MAX_TTL_SECONDS = 30 * 24 * 3600


class InvalidReportLink(DomainError):
    status, code, title = 403, "invalid_report_link", "Invalid or expired report link"


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires_at: datetime


def link_key(settings: Settings) -> bytes:
    """The link-signing key (the same in the API and in workers sharing the secret key)."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    return purpose_key(secret, settings.data_dir, LINK_KEY_INFO)


def signature(key: bytes, job_id: str, expires: int) -> str:
    message = f"report\n{job_id}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(key: bytes, job_id: str, expires: int, given: str, now: float | None = None) -> None:
    """Raise InvalidReportLink unless ``given`` signs (job_id, expires) and it has not
    expired; the comparison takes the same time whatever the bytes."""
    expected = signature(key, job_id, expires)
    valid = hmac.compare_digest(expected.encode(), given.encode())
    if not valid:
        raise InvalidReportLink("the report link's signature does not match", field="signature")
    if (time.time() if now is None else now) >= expires:
        raise InvalidReportLink("the report link has expired; ask for a new one", field="expires")


def signed_report_url(
    settings: Settings, job_id: str, ttl_seconds: int, base_url: str | None = None
) -> SignedLink:
    """An absolute link to the job's summary report, valid for ``ttl_seconds``."""
    expires = int(time.time()) + max(1, min(ttl_seconds, MAX_TTL_SECONDS))
    signed = signature(link_key(settings), job_id, expires)
    query = urlencode({"expires": expires, "signature": signed})
    base = (base_url or settings.resolved_public_url).rstrip("/")
    return SignedLink(
        url=f"{base}/v1/jobs/{job_id}/report?{query}",
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
