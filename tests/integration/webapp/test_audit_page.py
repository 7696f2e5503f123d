"""The audit log page: admins see their organisation, instructors themselves; filters; CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_fixtures import People, log_in
from webapp.extensions import db
from webapp.models import AuditEvent, Organisation, Role, User
from webapp.services import accounts

pytestmark = pytest.mark.requirement(21)


def entry(app: Flask, action: str, *, actor: int | None, label: str, target: str,
          organisation: int, when: datetime) -> None:  # fmt: skip
    with app.app_context():
        db.session.add(AuditEvent(action=action, actor_user_id=actor, actor_label=label,
                                  target=target, organisation_id=organisation, details={},
                                  created_at=when))  # fmt: skip
        db.session.commit()


@pytest.fixture
def logbook(app: Flask, people: People) -> dict[str, int]:
    """Entries by Ada, about Ada, by a colleague, and in another organisation."""
    with app.app_context():
        ada = db.session.get(User, people.instructor_id)
        assert ada is not None
        org = ada.organisation_id
        other = Organisation(name="Elsewhere", slug="elsewhere")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        colleague = accounts.create_user(
            email="grace@school.test", password="long enough pw 1", role=Role.INSTRUCTOR,
            organisation=ada.organisation,
        )  # fmt: skip
        colleague_id = colleague.id
    day = datetime(2026, 11, 20, 10, tzinfo=UTC)
    entry(app, "connection.write_calendar", actor=people.instructor_id,
          label=people.instructor_email, target=people.instructor_email, organisation=org,
          when=day)  # fmt: skip
    entry(app, "booking.created", actor=None, label="API key Website (abc)",
          target="=HYPERLINK(\"http://x\")", organisation=org,
          when=day.replace(day=22))  # fmt: skip
    entry(app, "enterprise.instructor_connected", actor=None, label="system",
          target=people.instructor_email, organisation=org, when=day.replace(day=24))  # fmt: skip
    entry(app, "profile.updated", actor=colleague_id, label="grace@school.test",
          target="grace@school.test", organisation=org, when=day.replace(day=25))  # fmt: skip
    entry(app, "login.succeeded", actor=None, label="someone@elsewhere.test",
          target="someone@elsewhere.test", organisation=other_id, when=day)  # fmt: skip
    return {"org": org}


def client_of(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email, password).status_code == 302
    return client


def shown(client: FlaskClient, **query: str) -> str:
    """The entries table of the page (the filter's choices left out), or the page's
    'no entries' sentence."""
    page = client.get("/audit", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    if '<table class="table" id="audit-table">' not in text:
        return text[text.index('<p id="audit-empty">') :]
    return text[text.index('<table class="table" id="audit-table">') : text.index("</table>")]


def test_an_admin_sees_the_organisation_and_nothing_else(
    app: Flask, people: People, logbook: dict[str, int]
) -> None:
    text = shown(client_of(app, people.admin_email, people.password))
    for action in ("connection.write_calendar", "booking.created",
                   "enterprise.instructor_connected", "profile.updated"):  # fmt: skip
        assert action in text
    assert "someone@elsewhere.test" not in text


def test_an_instructor_sees_only_what_they_did_or_what_names_them(
    app: Flask, people: People, logbook: dict[str, int]
) -> None:
    text = shown(client_of(app, people.instructor_email, people.password))
    assert "connection.write_calendar" in text
    assert "enterprise.instructor_connected" in text
    assert "grace@school.test" not in text
    assert "booking.created" not in text
    assert "someone@elsewhere.test" not in text


def test_filters_by_action_words_and_days(
    app: Flask, people: People, logbook: dict[str, int]
) -> None:
    admin = client_of(app, people.admin_email, people.password)
    text = shown(admin, action="profile.updated")
    assert "grace@school.test" in text
    assert "enterprise.instructor_connected" not in text
    text = shown(admin, q="API KEY website")
    assert "booking.created" in text
    assert "profile.updated" not in text
    text = shown(admin, **{"from": "2026-11-22", "to": "2026-11-24"})
    assert "booking.created" in text
    assert "enterprise.instructor_connected" in text
    assert "connection.write_calendar" not in text
    assert "profile.updated" not in text
    assert "No entries match these filters" in shown(admin, action="no.such.action")


@pytest.mark.parametrize(
    ("query", "message"),
    [({"from": "yesterday"}, "must be a date"), ({"from": "2026-11-25", "to": "2026-11-01"},
      "before"), ({"q": "x" * 101}, "at most 100")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_that_says_why(
    app: Flask, people: People, logbook: dict[str, int], query: dict[str, str], message: str
) -> None:
    admin = client_of(app, people.admin_email, people.password)
    page = admin.get("/audit", query_string=query)
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    assert admin.get("/audit.csv", query_string=query).status_code == 400


def test_the_csv_holds_the_same_entries_and_no_formula(
    app: Flask, people: People, logbook: dict[str, int]
) -> None:
    admin = client_of(app, people.admin_email, people.password)
    answer = admin.get("/audit.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["time_utc", "actor", "action", "target", "details"]
    targets = [row[3] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in targets  # a spreadsheet shows it as text
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert "someone@elsewhere.test" not in answer.get_data(as_text=True)


def test_the_audit_log_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/audit").status_code == 302
    assert client.get("/audit.csv").status_code == 302
