"""Change feed: Bookly's log since a cursor plus fingerprint reconciliation."""

from __future__ import annotations

import sqlalchemy as sa

from bookly_client import ChangeKind

from .conftest import KIM, School, utc

WINDOW = (utc("2026-11-23 00:00"), utc("2026-11-30 00:00"))


def snapshot(school: School) -> dict[int, str]:
    return school.gateway.reconcile({}, *WINDOW).fingerprints


def test_new_bookly_appointment_appears_in_the_log_feed(school: School) -> None:
    cursor = school.gateway.latest_cursor()
    appointment = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    batch = school.gateway.changes_since(cursor)
    assert [(e.action, e.table) for e in batch.entries] == [
        ("create", "appointments"),
        ("create", "customer_appointments"),
    ]
    assert batch.appointment_ids == {appointment}
    assert batch.entries[0].author == "admin"
    assert batch.entries[0].created_at == utc("2026-11-22 12:00")
    assert school.gateway.changes_since(batch.cursor).entries == ()


def test_log_feed_ignores_other_tables_and_pages(school: School) -> None:
    school.db.log_row("update", school.db.tables.staff, school.ada, {})
    for hour in (10, 13, 15):
        school.db.bookly_appointment(
            school.ada, school.lesson, f"2026-11-24 {hour}:00", f"2026-11-24 {hour}:30"
        )
    first = school.gateway.changes_since(0, limit=4)
    second = school.gateway.changes_since(first.cursor, limit=4)
    assert len(first.entries) == 4
    assert len(second.entries) == 2
    assert {e.table for e in first.entries + second.entries} == {
        "appointments", "customer_appointments",
    }  # fmt: skip


def test_our_writes_are_logged_with_our_author(school: School) -> None:
    cursor = school.gateway.latest_cursor()
    school.gateway.create_booking(
        reference="r", staff_id=school.ada, service_id=school.lesson,
        start=utc("2026-11-24 09:00"), customer=KIM,
    )  # fmt: skip
    entries = school.gateway.changes_since(cursor).entries
    assert {e.author for e in entries} == {"calendar-bridge"}


def test_raw_sql_edit_without_log_row_is_found_by_reconciliation(school: School) -> None:
    appointment = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    known = snapshot(school)
    cursor = school.gateway.latest_cursor()
    a = school.db.tables.appointments
    school.db.execute(
        sa.update(a).where(a.c.id == appointment).values(end_date=sa.text("'2026-11-24 11:30:00'"))
    )
    assert school.gateway.changes_since(cursor).entries == ()
    result = school.gateway.reconcile(known, *WINDOW)
    assert result.of_kind(ChangeKind.CHANGED) == (appointment,)
    assert result.changes[0].appointment.end == utc("2026-11-24 10:30")


def test_cascaded_delete_of_a_service_is_found(school: School) -> None:
    doomed = school.db.bookly_appointment(
        school.ada, school.padded, "2026-11-24 14:00", "2026-11-24 14:30"
    )
    kept = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    known = snapshot(school)
    s = school.db.tables.services
    school.db.execute(sa.delete(s).where(s.c.id == school.padded))  # FK cascade, no log row
    result = school.gateway.reconcile(known, *WINDOW)
    assert result.of_kind(ChangeKind.REMOVED) == (doomed,)
    assert set(result.fingerprints) == {kept}
    assert school.db.count(school.db.tables.customer_appointments) == 1


def test_cancellation_is_seen_in_log_and_reconciliation(school: School) -> None:
    appointment = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    known = snapshot(school)
    cursor = school.gateway.latest_cursor()
    ca = school.db.tables.customer_appointments
    school.db.execute(sa.update(ca).values(status="cancelled"))
    ca_id = school.gateway.list_appointments(*WINDOW)[0].customers[0].id
    school.db.log_row("update", ca, ca_id, {"status": "cancelled"})  # as Bookly's entity save
    assert school.gateway.changes_since(cursor).appointment_ids == {appointment}
    result = school.gateway.reconcile(known, *WINDOW)
    assert result.of_kind(ChangeKind.CHANGED) == (appointment,)
    assert not result.changes[0].appointment.is_busy


def test_new_and_moved_out_appointments(school: School) -> None:
    moving = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    known = snapshot(school)
    added = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-25 10:00", "2026-11-25 11:00"
    )
    a = school.db.tables.appointments
    school.db.execute(
        sa.update(a)
        .where(a.c.id == moving)
        .values(
            start_date=sa.text("'2027-01-05 10:00:00'"), end_date=sa.text("'2027-01-05 11:00:00'")
        )
    )
    result = school.gateway.reconcile(known, *WINDOW)
    assert result.of_kind(ChangeKind.ADDED) == (added,)
    assert result.of_kind(ChangeKind.CHANGED) == (moving,)
    assert set(result.fingerprints) == {added}


def test_unchanged_window_reports_nothing(school: School) -> None:
    school.db.bookly_appointment(school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00")
    assert school.gateway.reconcile(snapshot(school), *WINDOW).changes == ()
