"""Migrations match the models; model-level guarantees hold on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy.exc import IntegrityError, StatementError

from tests.webapp_fixtures import MakeApp, People
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    Booking,
    BookingStatus,
    CalendarConnection,
    ConnectMethod,
    Delivery,
    Organisation,
    OutboxJob,
    Role,
    User,
)


def test_migrations_build_exactly_the_models_schema(make_app: MakeApp) -> None:
    app = make_app()
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        tables = set(sa.inspect(db.engine).get_table_names())
        assert tables == set(db.metadata.tables) | {"alembic_version"}
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}


def _connection(user_id: int, sub: str) -> CalendarConnection:
    return CalendarConnection(
        user_id=user_id,
        cronofy_sub=sub,
        data_center="us",
        method=ConnectMethod.INDIVIDUAL,
        access_mode=AccessMode.FREE_BUSY,
    )


def test_datetimes_come_back_aware_utc(app: Flask) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with app.app_context():
        db.session.add(OutboxJob(kind="test", next_attempt_at=moment))
        db.session.commit()
        db.session.expire_all()
        stored = db.session.scalars(sa.select(OutboxJob)).one().next_attempt_at
    assert stored == moment
    assert stored.tzinfo is UTC


def test_naive_datetimes_are_refused(app: Flask) -> None:
    with app.app_context():
        db.session.add(OutboxJob(kind="test", next_attempt_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.commit()


@pytest.mark.requirement(21)
def test_one_cronofy_account_never_belongs_to_two_people(app: Flask, people: People) -> None:
    with app.app_context():
        db.session.add(_connection(people.instructor_id, "acc_shared"))
        db.session.commit()
        db.session.add(_connection(people.admin_id, "acc_shared"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_an_instructor_has_at_most_one_connection(app: Flask, people: People) -> None:
    with app.app_context():
        db.session.add(_connection(people.instructor_id, "acc_1"))
        db.session.commit()
        db.session.add(_connection(people.instructor_id, "acc_2"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_foreign_keys_are_enforced(app: Flask) -> None:
    with app.app_context():
        db.session.add(_connection(999_999, "acc_orphan"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_deleting_a_user_deletes_their_connection(app: Flask, people: People) -> None:
    with app.app_context():
        db.session.add(_connection(people.instructor_id, "acc_1"))
        db.session.commit()
        db.session.execute(sa.delete(User).where(User.id == people.instructor_id))
        db.session.commit()
        assert db.session.scalars(sa.select(CalendarConnection)).all() == []


def test_enum_columns_reject_unknown_values(app: Flask, people: People) -> None:
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(
            sa.text("UPDATE users SET role = 'superuser' WHERE id = :id"),
            {"id": people.instructor_id},
        )


def _booking(instructor_id: int, start_hour: int, end_hour: int, key: str) -> Booking:
    day = datetime(2030, 5, 6, tzinfo=UTC)
    return Booking(
        public_id=key,
        instructor_id=instructor_id,
        bookly_service_id=1,
        starts_at=day + timedelta(hours=start_hour),
        ends_at=day + timedelta(hours=end_hour),
        customer_name="Cara Customer",
        customer_email="cara@example.test",
        delivery=Delivery.CALENDAR_EVENT,
        idempotency_key=key,
        request_fingerprint="0" * 64,
    )


def _store(*rows: Booking) -> None:
    db.session.add_all(rows)
    db.session.commit()


@pytest.mark.requirement(12)
def test_overlapping_confirmed_bookings_of_one_instructor_are_refused(
    app: Flask, people: People
) -> None:
    with app.app_context():
        _store(_booking(people.instructor_id, 10, 11, "a"))
        db.session.add(_booking(people.instructor_id, 10, 12, "b"))
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            db.session.commit()


def test_adjacent_bookings_and_other_instructors_are_allowed(app: Flask, people: People) -> None:
    with app.app_context():
        _store(
            _booking(people.instructor_id, 10, 11, "a"),
            _booking(people.instructor_id, 11, 12, "b"),
            _booking(people.admin_id, 10, 11, "c"),
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3


def test_a_cancelled_booking_frees_its_time(app: Flask, people: People) -> None:
    with app.app_context():
        first = _booking(people.instructor_id, 10, 11, "a")
        _store(first)
        first.status = BookingStatus.CANCELLED
        db.session.commit()
        _store(_booking(people.instructor_id, 10, 11, "b"))
        first.status = BookingStatus.CONFIRMED  # moving it back would double-book
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            db.session.commit()


@pytest.mark.requirement(12)
def test_migrated_schema_refuses_overlapping_bookings(make_app: MakeApp) -> None:
    app = make_app()
    with app.app_context():
        flask_migrate.upgrade()
        org = Organisation(name="School", slug="school")
        user = User(email="i@school.test", role=Role.INSTRUCTOR, organisation=org)
        _store(user)
        _store(_booking(user.id, 9, 10, "a"))
        db.session.add(_booking(user.id, 9, 11, "b"))
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            db.session.commit()
        db.session.rollback()
        moved = db.session.scalars(sa.select(Booking)).one()
        moved.starts_at += timedelta(hours=1)
        moved.ends_at += timedelta(hours=1)
        db.session.commit()  # moving a booking onto its own old time is not an overlap
