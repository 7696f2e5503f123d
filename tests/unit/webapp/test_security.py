"""Token encryption, state tokens and password hashing."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from webapp.security import (
    TokenCipher,
    TokenDecryptError,
    digests_match,
    hash_password,
    new_state_token,
    token_digest,
    verify_password,
)


def _key() -> str:
    return Fernet.generate_key().decode()


def test_ciphertext_round_trips_and_hides_the_token() -> None:
    cipher = TokenCipher([_key()])
    secret = "access-token-abc123"
    encrypted = cipher.encrypt(secret)
    assert secret not in encrypted
    assert cipher.decrypt(encrypted) == secret


def test_old_ciphertext_still_opens_after_a_new_key_is_added_first() -> None:
    old, new = _key(), _key()
    encrypted = TokenCipher([old]).encrypt("refresh-token")
    assert TokenCipher([new, old]).decrypt(encrypted) == "refresh-token"


def test_rotated_ciphertext_opens_without_the_old_key() -> None:
    old, new = _key(), _key()
    encrypted = TokenCipher([old]).encrypt("refresh-token")
    rotated = TokenCipher([new, old]).rotate(encrypted)
    assert TokenCipher([new]).decrypt(rotated) == "refresh-token"
    with pytest.raises(TokenDecryptError):
        TokenCipher([new]).decrypt(encrypted)


@pytest.mark.parametrize("garbage", ["", "not-fernet", "gAAAAA" + "x" * 80, "é"])
def test_garbage_raises_our_error(garbage: str) -> None:
    with pytest.raises(TokenDecryptError):
        TokenCipher([_key()]).decrypt(garbage)


def test_a_cipher_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenCipher([])


def test_state_tokens_are_long_unique_and_stored_as_digests() -> None:
    tokens = {new_state_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 43
    digest = token_digest(token)
    assert len(digest) == 64
    assert token not in digest
    assert digests_match(token, digest)
    assert not digests_match(token + "x", digest)


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt:")
    assert first != second
    assert verify_password(first, "s3cret-pass")
    assert not verify_password(first, "wrong")


def test_missing_hash_never_verifies() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("", "")
