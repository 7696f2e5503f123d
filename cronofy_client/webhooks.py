"""Verification of the ``Cronofy-HMAC-SHA256`` header on every Cronofy callback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

HMAC_HEADER = "Cronofy-HMAC-SHA256"


def sign_body(raw_body: bytes, secret: str) -> str:
    """Standard base64 (with padding) HMAC-SHA256 of the raw body, keyed with a client secret."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class WebhookVerifier:
    """Checks a callback's HMAC header against every active client secret (rotation-safe)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        active = tuple(s for s in secrets if s)
        if not active:
            raise ValueError("at least one client secret is required")
        self._keys = tuple(s.encode("utf-8") for s in active)

    def verify(self, raw_body: bytes, header: str | None) -> bool:
        """True when any comma-separated digest in ``header`` matches any active secret.

        ``raw_body`` must be the exact bytes received, before any JSON parsing. Never raises.
        """
        if not header or not header.isascii():
            return False
        sent = [part.strip().encode("ascii") for part in header.split(",")]
        sent = [part for part in sent if part]
        if not sent:
            return False
        expected = [
            base64.b64encode(hmac.new(key, raw_body, hashlib.sha256).digest()) for key in self._keys
        ]
        # Compare every pair (no early exit) so timing reveals nothing about which matched.
        matched = False
        for digest in expected:
            for candidate in sent:
                matched |= hmac.compare_digest(digest, candidate)
        if not matched:
            log.info("Rejected a Cronofy callback with a non-matching HMAC")
        return matched
