"""E-mailed invites: what free/busy and no-calendar writes turn into (the sandbox mailbox).

The mailbox also takes mail from the application it serves (``receive_mail``): the embedded
demo captures its own e-mail and shows it here, so one page holds everything "sent".
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import now, stored_to_instant

log = logging.getLogger(__name__)


def _ics_time(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def build_ics(
    *,
    method: str,
    uid: str,
    summary: str,
    start: datetime,
    end: datetime,
    organizer: str,
    attendees: list[str],
    description: str = "",
    location: str = "",
    sequence: int = 0,
) -> str:
    """An RFC 5545 VCALENDAR with one VEVENT (CRLF line endings)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cronofy sandbox//EN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_ics_time(now())}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(end)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{_escape(summary)}",
        f"ORGANIZER:mailto:{organizer}",
    ]
    lines += [f"ATTENDEE;RSVP=TRUE:mailto:{email}" for email in attendees]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if method == "CANCEL":
        lines.append("STATUS:CANCELLED")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def mail_event(store: Store, event: sqlite3.Row, recipient: str, *, cancel: bool) -> None:
    """Put an invite (or its cancellation) for a managed event into the recipient's mailbox."""
    method = "CANCEL" if cancel else "REQUEST"
    ics = build_ics(
        method=method,
        uid=event["event_uid"],
        summary=event["summary"],
        start=stored_to_instant(event["start"]),
        end=stored_to_instant(event["end"]),
        organizer="invites@sandbox.cronofy.invalid",
        attendees=[recipient],
        description=event["description"],
    )
    subject = ("Cancelled: " if cancel else "Invitation: ") + event["summary"]
    store.execute(
        "INSERT INTO mailbox (recipient, subject, method, event_uid, ics, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (recipient, subject, method, event["event_uid"], ics, now().isoformat()),
    )
    log.info("mailed %s invite for event %s", method, event["event_uid"])


def receive_mail(
    store: Store, *, recipient: str, subject: str, body: str, method: str = "", ics: str = ""
) -> None:
    """Put a message the application e-mailed (its body, any .ics) into the mailbox."""
    store.execute(
        "INSERT INTO mailbox (recipient, subject, method, event_uid, ics, sent_at, body)"
        " VALUES (?, ?, ?, NULL, ?, ?, ?)",
        (recipient, subject, method, ics, now().isoformat(), body),
    )
