"""Reading the e-mail addresses an admin pastes or uploads (CSV) for Enterprise Connect."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from webapp.services.email_addresses import InvalidEmail, email_address
from webapp.services.enterprise.errors import InvalidRecipients

MAX_CSV_BYTES = 64 * 1024
MAX_RECIPIENTS = 1000
MAX_EMAIL_LENGTH = 254
EMAIL_HEADERS = frozenset({"email", "e-mail", "email address", "e-mail address"})
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class Recipients:
    """Addresses to authorize (normalised, first occurrence kept) and what was rejected."""

    valid: tuple[str, ...]
    invalid: tuple[str, ...]
    duplicates: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing at all was submitted."""
        return not (self.valid or self.invalid or self.duplicates)


def parse_recipients(text: str, csv_upload: bytes | None = None) -> Recipients:
    """Pasted text (comma/semicolon/newline separated) plus an optional CSV, validated."""
    entries = [part for part in _SEPARATORS.split(text) if part]
    if csv_upload:
        entries.extend(_csv_entries(csv_upload))
    if len(entries) > MAX_RECIPIENTS:
        raise InvalidRecipients(
            f"Send at most {MAX_RECIPIENTS} addresses at a time ({len(entries)} given)."
        )
    return _classify(entries)


def _classify(entries: list[str]) -> Recipients:
    valid: list[str] = []
    invalid: list[str] = []
    duplicates: list[str] = []
    seen: set[str] = set()
    for raw in entries:
        try:
            email = email_address(raw.strip().strip("<>"))
        except InvalidEmail:
            invalid.append(raw.strip()[:MAX_EMAIL_LENGTH])
            continue
        if email in seen:
            if email not in duplicates:
                duplicates.append(email)
        else:
            seen.add(email)
            valid.append(email)
    return Recipients(tuple(valid), tuple(invalid), tuple(duplicates))


def _csv_entries(data: bytes) -> list[str]:
    """The e-mail column of a CSV: the column named email, or its only column."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidRecipients(f"The CSV file is larger than {MAX_CSV_BYTES // 1024} KB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRecipients("The CSV file is not UTF-8 text.") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error:
        raise InvalidRecipients("The CSV file cannot be read as CSV.") from None
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((i for i, name in enumerate(header) if name in EMAIL_HEADERS), None)
    if column is not None:
        return [row[column].strip() for row in rows[1:] if len(row) > column and row[column]]
    if all(len(row) == 1 for row in rows):
        return [row[0].strip() for row in rows]
    raise InvalidRecipients("The CSV file needs a column named email, or a single column.")
