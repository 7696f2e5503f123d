"""Cronofy-HMAC-SHA256: base64(HMAC-SHA256(client secret, raw body)), one per active secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def digest(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 of `body` keyed with `secret`."""
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def signature_header(body: bytes, secrets: Sequence[str]) -> str:
    """The header value: comma-separated digests, one per active client secret."""
    return ",".join(digest(body, secret) for secret in secrets)
