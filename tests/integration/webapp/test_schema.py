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
from webapp.models import AccessMode, CalendarConnection, ConnectMethod, OutboxJob, User


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
