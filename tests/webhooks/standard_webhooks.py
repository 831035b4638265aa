"""An independent verifier of the Standard Webhooks spec, written from the spec
(https://www.standardwebhooks.com/) and not from fcplane's signer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_S = 5 * 60


class Invalid(Exception):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise Invalid unless one of the v1 signatures matches and the timestamp is fresh."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise Invalid("missing headers")
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        raise Invalid("timestamp out of tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    expected = base64.b64encode(mac.digest())
    for candidate in signatures.split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), expected):
            return
    raise Invalid("no matching signature")
