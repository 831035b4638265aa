"""Signing against published vectors and the receivers' own recipes."""

from __future__ import annotations

import pytest

from service.webhooks import signing


def test_standard_webhooks_published_vector() -> None:
    # The example of the Standard Webhooks reference libraries' test suites.
    signature = signing.standard_signature(
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_generated_secrets_are_valid_and_distinct() -> None:
    a, b = signing.generate_standard_secret(), signing.generate_standard_secret()
    assert a != b
    assert len(signing.standard_key(a)) == 32


@pytest.mark.parametrize("bad", ["whsec_", "abc", "whsec_%%%", "whsec_" + "QUFB" * 2])
def test_bad_secrets(bad: str) -> None:
    with pytest.raises(ValueError, match="must"):
        signing.standard_key(bad)
