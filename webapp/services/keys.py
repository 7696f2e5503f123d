"""Token-encryption key rotation: re-encrypt every stored token under the newest key."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import ENCRYPTED_MODELS, ENCRYPTED_TOKEN_COLUMNS, EncryptedTokens
from webapp.security import TokenCipher, TokenDecryptError
from webapp.services import audit

log = logging.getLogger(__name__)

BATCH_SIZE = 200


@dataclass(frozen=True, slots=True)
class RotationResult:
    """What a rotation run did."""

    rotated: int
    unreadable: int


def rotate_all(cipher: TokenCipher) -> RotationResult:
    """Re-encrypt every encrypted column of every row; commit per batch."""
    rotated = unreadable = 0
    for model in ENCRYPTED_MODELS:
        done, failed = _rotate_table(cipher, model)
        rotated += done
        unreadable += failed
    audit.record("keys.rotated", details={"rotated": rotated, "unreadable": unreadable})
    db.session.commit()
    log.info("token rotation: %d values re-encrypted, %d unreadable", rotated, unreadable)
    return RotationResult(rotated=rotated, unreadable=unreadable)


def _rotate_table(cipher: TokenCipher, model: type[EncryptedTokens]) -> tuple[int, int]:
    rotated = unreadable = 0
    last_id = 0
    while True:
        query = sa.select(model).where(model.id > last_id).order_by(model.id).limit(BATCH_SIZE)
        rows = db.session.scalars(query).all()
        if not rows:
            return rotated, unreadable
        for row in rows:
            done, failed = _rotate_row(cipher, row)
            rotated += done
            unreadable += failed
        last_id = rows[-1].id
        db.session.commit()


def _rotate_row(cipher: TokenCipher, row: EncryptedTokens) -> tuple[int, int]:
    rotated = unreadable = 0
    for column in ENCRYPTED_TOKEN_COLUMNS:
        value = getattr(row, column)
        if not value:
            continue
        try:
            setattr(row, column, cipher.rotate(value))
            rotated += 1
        except TokenDecryptError:
            unreadable += 1
            log.error("%s id=%s: %s opens with no key", type(row).__name__, row.id, column)
    return rotated, unreadable
