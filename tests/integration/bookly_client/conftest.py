"""A small school on the Bookly test database: one instructor, services, a customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bookly_client import BooklyGateway, CustomerDetails
from tests.bookly_fixtures import BooklyDb


def utc(text: str) -> datetime:
    """``"2026-11-24 09:00"`` -> aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


KIM = CustomerDetails(email="kim@example.com", full_name="Kim Doe", phone="+49 30 1234")


@dataclass
class School:
    db: BooklyDb
    gateway: BooklyGateway
    ada: int
    grace: int
    lesson: int  # 60 min, offered by Ada and Grace
    padded: int  # 30 min, 15 min padding each side, Ada only
    exam: int  # 90 min, Grace only


@pytest.fixture
def school(bookly_db: BooklyDb) -> School:
    """Ada (Mon-Fri 08-18, lunch 12-13 on Tuesdays) and Grace (Mon-Fri 08-18)."""
    ada = bookly_db.add_staff("Ada Lovelace", breaks={3: [("12:00", "13:00")]})
    grace = bookly_db.add_staff("Grace Hopper")
    lesson = bookly_db.add_service("Driving lesson", 60, staff=(ada, grace))
    padded = bookly_db.add_service("Theory", 30, staff=(ada,), padding_left=900, padding_right=900)
    exam = bookly_db.add_service("Exam", 90, staff=(grace,))
    return School(bookly_db, bookly_db.gateway(), ada, grace, lesson, padded, exam)
