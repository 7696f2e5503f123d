"""Identifier and token shapes: Cronofy's prefixes, 32-character tokens."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_chars(length: int) -> str:
    """Return `length` random ASCII letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def token() -> str:
    """A 32-character access token, refresh token or authorization code."""
    return random_chars(32)


def new_id(prefix: str, length: int = 16) -> str:
    """An id like acc_..., pro_..., cal_..., chn_... or ser_..."""
    return f"{prefix}_{random_chars(length)}"
