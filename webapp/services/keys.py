"""Token-encryption key rotation: re-encrypt every stored token under the newest key."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import ENCRYPTED_COLUMNS, CalendarConnection, ServiceAccount
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
    for model, columns in ENCRYPTED_COLUMNS.items():
        last_id = 0
        while True:
            rows = db.session.scalars(
                sa.select(model)
                .where(model.id > last_id)
                .order_by(model.id)
                .limit(BATCH_SIZE)
            ).all()
            if not rows:
                break
            for row in rows:
                done, failed = _rotate_row(cipher, row, columns)
                rotated += done
                unreadable += failed
            last_id = rows[-1].id
            db.session.commit()
    audit.record("keys.rotated", details={"rotated": rotated, "unreadable": unreadable})
    db.session.commit()
    log.info("token rotation: %d values re-encrypted, %d unreadable", rotated, unreadable)
    return RotationResult(rotated=rotated, unreadable=unreadable)


def _rotate_row(
    cipher: TokenCipher, row: CalendarConnection | ServiceAccount, columns: tuple[str, ...]
) -> tuple[int, int]:
    rotated = unreadable = 0
    for column in columns:
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
