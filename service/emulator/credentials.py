"""The emulator's credentials beyond its access keys: role credentials and the admin bearer.

Role credentials stand in for the STS credentials FC hands a function with a
``role``. They are fake and clearly local (the key id starts with
``STS.fcplane-local.``), derived from the emulator's own access key with HMAC,
so they need no storage, are the same for every instance of a function, and
the emulator can check them statelessly: a request signed with one, carrying
its security token, is accepted on FC's API (never on ``/_emulator/``), as a
role's credentials would be by FC. Without the emulator's secret nobody can
mint a pair that verifies.

The admin bearer is how plain HTTP clients (curl, tests) reach ``/_emulator/``
without ACS3 signing: ``Authorization: Bearer <key id>:<hex HMAC of the key's
secret>`` — see ``admin_bearer``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from service.emulator.runtime.contract import TemporaryCredentials

ROLE_KEY_PREFIX = "STS.fcplane-local."
_NO_AUTH_MASTER = "fcplane-emulator-without-auth"  # --no-auth: nothing to protect anyway
_ADMIN_PURPOSE = b"fcplane-emulator-admin-v1"


def _mac(master: str, text: str) -> str:
    return hmac.new(master.encode(), text.encode(), hashlib.sha256).hexdigest()


def _master(access_keys: Mapping[str, str] | None) -> str:
    if not access_keys:
        return _NO_AUTH_MASTER
    return access_keys[min(access_keys)]


def role_credentials(
    access_keys: Mapping[str, str] | None, function_name: str, role: str
) -> TemporaryCredentials:
    master = _master(access_keys)
    key_id = ROLE_KEY_PREFIX + _mac(master, f"key|{role}|{function_name}")[:24]
    secret, token = _derive(master, key_id)
    return TemporaryCredentials(key_id, secret, token)


def _derive(master: str, key_id: str) -> tuple[str, str]:
    return _mac(master, f"secret|{key_id}")[:40], "fcplane-local-sts." + _mac(
        master, f"token|{key_id}"
    )


def role_secret(access_keys: Mapping[str, str] | None, key_id: str) -> tuple[str, str] | None:
    """(secret, security token) of a role key id this emulator issued; None for any other id."""
    if not key_id.startswith(ROLE_KEY_PREFIX):
        return None
    return _derive(_master(access_keys), key_id)


def admin_bearer(access_key_id: str, access_key_secret: str) -> str:
    """The bearer token that opens ``/_emulator/`` for the holder of this access key."""
    digest = hmac.new(access_key_secret.encode(), _ADMIN_PURPOSE, hashlib.sha256).hexdigest()
    return f"{access_key_id}:{digest}"


def bearer_matches(access_keys: Mapping[str, str], token: str) -> bool:
    key_id, _, _ = token.partition(":")
    secret = access_keys.get(key_id)
    if secret is None:
        return False
    return hmac.compare_digest(admin_bearer(key_id, secret), token)
