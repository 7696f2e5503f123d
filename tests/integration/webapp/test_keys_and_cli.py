"""CLI commands: users create, demo seed, keys rotate (token encryption at rest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.webapp_fixtures import MakeApp, People
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    CalendarConnection,
    ConnectMethod,
    Organisation,
    Role,
    ServiceAccount,
    User,
)
from webapp.security import TokenCipher, verify_password

ACCESS, REFRESH, SA_ACCESS = "plain-access-token", "plain-refresh-token", "plain-sa-token"


def _store_tokens(app: Flask, people: People) -> None:
    cipher: TokenCipher = app.extensions["token_cipher"]
    with app.app_context():
        org_id = db.session.scalars(sa.select(Organisation.id)).one()
        db.session.add_all(
            [
                CalendarConnection(
                    user_id=people.instructor_id,
                    cronofy_sub="acc_1",
                    data_center="us",
                    method=ConnectMethod.INDIVIDUAL,
                    access_mode=AccessMode.READ_WRITE,
                    access_token_encrypted=cipher.encrypt(ACCESS),
                    refresh_token_encrypted=cipher.encrypt(REFRESH),
                    access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
                ),
                ServiceAccount(
                    organisation_id=org_id,
                    data_center="us",
                    access_mode=AccessMode.FREE_BUSY,
                    access_token_encrypted=cipher.encrypt(SA_ACCESS),
                ),
            ]
        )
        db.session.commit()


def _decrypted(app: Flask) -> set[str]:
    cipher: TokenCipher = app.extensions["token_cipher"]
    with app.app_context():
        conn = db.session.scalars(sa.select(CalendarConnection)).one()
        account = db.session.scalars(sa.select(ServiceAccount)).one()
        values = [conn.access_token_encrypted, conn.refresh_token_encrypted]
        values.append(account.access_token_encrypted)
        return {cipher.decrypt(v) for v in values if v}


def _raw_rows(app: Flask) -> str:
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT * FROM calendar_connections")).all()
        rows += db.session.execute(sa.text("SELECT * FROM service_accounts")).all()
        return repr(rows)


@pytest.mark.requirement(8)
def test_key_rotation_lets_the_old_key_go(app: Flask, make_app: MakeApp, people: People) -> None:
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"][0]
    _store_tokens(app, people)
    raw = _raw_rows(app)
    assert ACCESS not in raw
    assert REFRESH not in raw
    assert SA_ACCESS not in raw

    new_key = Fernet.generate_key().decode()
    both = make_app(TOKEN_ENCRYPTION_KEYS=f"{new_key},{old_key}")
    assert _decrypted(both) == {ACCESS, REFRESH, SA_ACCESS}  # old rows still open

    result = both.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 token(s)." in result.output

    only_new = make_app(TOKEN_ENCRYPTION_KEYS=new_key)
    assert _decrypted(only_new) == {ACCESS, REFRESH, SA_ACCESS}
    assert ACCESS not in _raw_rows(only_new)


@pytest.mark.requirement(8)
def test_rotation_without_the_old_key_reports_unreadable_tokens(
    app: Flask, make_app: MakeApp, people: People
) -> None:
    _store_tokens(app, people)
    stranger = make_app(TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    result = stranger.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code != 0
    assert "3 token(s) open with none of the configured keys" in result.output
    assert _decrypted(app) == {ACCESS, REFRESH, SA_ACCESS}  # nothing was destroyed


def test_users_create_makes_a_login(app: Flask, runner: FlaskCliRunner) -> None:
    args = [
        "users",
        "create",
        "--role",
        "admin",
        "--email",
        " Boss@School.TEST ",
        "--org",
        "Lightkeepers",
        "--password",
        "long-enough-pw",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        assert user.email == "boss@school.test"
        assert user.role is Role.ADMIN
        assert user.organisation.name == "Lightkeepers"
        assert verify_password(user.password_hash, "long-enough-pw")


def test_users_create_refuses_a_duplicate_email(runner: FlaskCliRunner, people: People) -> None:
    args = [
        "users",
        "create",
        "--role",
        "instructor",
        "--email",
        people.instructor_email,
        "--org",
        "Lightkeepers",
        "--password",
        "long-enough-pw",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "already exists" in result.output


@pytest.mark.parametrize("email", ["boss@school", "boss..x@school.test", "boss@-school.test"])
def test_users_create_refuses_an_address_mail_cannot_reach(
    app: Flask, runner: FlaskCliRunner, email: str
) -> None:
    args = ["users", "create", "--role", "admin", "--email", email, "--org", "Lightkeepers"]
    result = runner.invoke(args=[*args, "--password", "long-enough-pw"])
    assert result.exit_code != 0
    assert "is not an e-mail address" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_users_create_refuses_a_short_password(runner: FlaskCliRunner) -> None:
    args = [
        "users",
        "create",
        "--role",
        "instructor",
        "--email",
        "x@school.test",
        "--org",
        "Lightkeepers",
        "--password",
        "short",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "at least 8" in result.output


def test_demo_seed_is_idempotent_and_prints_the_logins(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "4 login(s) created" in first.output
    assert "0 login(s) created" in second.output
    assert "admin@demo.test" in first.output
    assert "demo-instructor" in first.output
    with app.app_context():
        users = db.session.scalars(sa.select(User).order_by(User.email)).all()
        assert [u.email for u in users] == [
            "ada@demo.test",
            "admin@demo.test",
            "alan@demo.test",
            "grace@demo.test",
        ]
        admin = next(u for u in users if u.email == "admin@demo.test")
        assert admin.role is Role.ADMIN
        assert verify_password(admin.password_hash, "demo-admin")
        assert len({u.organisation_id for u in users}) == 1


def test_demo_seed_links_instructors_to_the_bookly_demo_staff(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(BOOKLY_DATABASE_URL=f"sqlite:///{tmp_path / 'bookly.sqlite3'}")
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "3 instructor(s) linked to Bookly staff" in result.output
    staff = {member.email: member.id for member in app.extensions["clients"].bookly.list_staff()}
    with app.app_context():
        users = db.session.scalars(sa.select(User).where(User.role == Role.INSTRUCTOR)).all()
        assert {u.email: u.bookly_staff_id for u in users} == {
            email: staff[email] for email in ("ada@demo.test", "grace@demo.test", "alan@demo.test")
        }
