from __future__ import annotations

from pathlib import Path

import pytest

from service.kit.crypto import DecryptionError, SecretBox, load_or_create_dev_key

KEY = "k" * 40


def test_round_trip_and_fresh_nonce_each_time() -> None:
    box = SecretBox(KEY)
    first, second = box.seal("hunter2", "ctx"), box.seal("hunter2", "ctx")
    assert first != second
    assert b"hunter2" not in first
    assert box.open(first, "ctx") == box.open(second, "ctx") == "hunter2"


def test_wrong_key_context_or_tampering_is_refused_without_echoing_the_secret() -> None:
    sealed = SecretBox(KEY).seal("hunter2", "ctx")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for box, blob, ctx in (
        (SecretBox("x" * 40), sealed, "ctx"),
        (SecretBox(KEY), sealed, "other-field"),
        (SecretBox(KEY), tampered, "ctx"),
        (SecretBox(KEY), b"\x02" + sealed[1:], "ctx"),
    ):
        with pytest.raises(DecryptionError) as err:
            box.open(blob, ctx)
        assert "hunter2" not in str(err.value)


def test_dev_key_is_created_once_and_private(tmp_path: Path) -> None:
    key = load_or_create_dev_key(tmp_path)
    assert load_or_create_dev_key(tmp_path) == key
    assert len(key) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
