"""Token encryption (MultiFernet), OAuth state tokens and password hashing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from werkzeug.security import check_password_hash, generate_password_hash

log = logging.getLogger(__name__)

HASH_METHOD = "scrypt"
STATE_TOKEN_BYTES = 32
# Checked against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


class TokenDecryptError(Exception):
    """No configured key opens this ciphertext (key removed too early, or data corrupt)."""


class TokenCipher:
    """Encrypts tokens at rest with the newest key; decrypts with any configured key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is required")
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of a token, under the primary (first) key."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The token behind a ciphertext; TokenDecryptError when no key opens it."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise TokenDecryptError("no configured key decrypts this token") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the primary key (keeps the original timestamp)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise TokenDecryptError("no configured key decrypts this token") from exc


def new_state_token() -> str:
    """A fresh unguessable token for OAuth state or a webhook path."""
    return secrets.token_urlsafe(STATE_TOKEN_BYTES)


def token_digest(token: str) -> str:
    """SHA-256 hex digest: what we store instead of a state or path token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digests_match(token: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    return hmac.compare_digest(token_digest(token), stored_digest)


def hash_password(password: str) -> str:
    """A salted scrypt hash of a password."""
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; spends the same time when there is no hash."""
    if not stored_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(stored_hash, password)
