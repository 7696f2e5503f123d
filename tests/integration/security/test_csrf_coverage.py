"""§8 item 22: every POST route needs a CSRF token, except the Cronofy webhook receivers
and the JSON API (/api/v1/), which authenticates with a bearer API key only, never with the
session cookie, so a forged cross-site request carries no credential (tested below).

The exempt set is read from Flask-WTF's own bookkeeping (``_exempt_views`` and
``_exempt_blueprints``, the sets ``CSRFProtect._is_exempt`` consults). Every other POST rule is
posted without a token by a logged-in instructor and by a logged-in admin, with a form that would
otherwise act (the instructor is connected, the organisation is connected, one authorization
is pending): each gets 400 and the whole database is unchanged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter, Rule

from tests.integration.connect.conftest import Wiring, connect
from tests.integration.enterprise.conftest import authorize, connect_organisation
from tests.webapp_fixtures import People, app_test_config, csrf_token
from webapp import create_app
from webapp.extensions import db
from webapp.models import ServiceAccountAuthorization

pytestmark = pytest.mark.requirement(22)

WEBHOOK_RULES = frozenset(
    {
        "/webhooks/cronofy/<token>",
        "/webhooks/cronofy/enterprise/<token>",
        "/webhooks/cronofy/smart-invites",
    }
)
API_PREFIX = "/api/v1/"
CSRF_MESSAGE = "did not come from this site"
DUMMY_TOKEN = "x" * 43


def _post_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]


def _all_post_rules() -> list[str]:
    """POST rules of a throwaway app (collection time: the routes do not depend on the DB)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(app_test_config("sqlite://", Path(instance)))
        return sorted({rule.rule for rule in _post_rules(app)})


def _exempt_by_design(rule: str) -> bool:
    return rule in WEBHOOK_RULES or rule.startswith(API_PREFIX)


PROTECTED_RULES = [rule for rule in _all_post_rules() if not _exempt_by_design(rule)]


def _is_exempt(app: Flask, rule: Rule) -> bool:
    """What CSRFProtect._is_exempt decides for requests routed to this rule."""
    csrf: CSRFProtect = app.extensions["csrf"]
    blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
    if blueprint is not None and blueprint in csrf._exempt_blueprints:
        return True
    view = app.view_functions[rule.endpoint]
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def test_only_the_webhook_receivers_and_the_bearer_api_are_csrf_exempt(app: Flask) -> None:
    assert app.config["WTF_CSRF_ENABLED"]
    assert app.config["WTF_CSRF_CHECK_DEFAULT"]
    assert "POST" in app.config["WTF_CSRF_METHODS"]
    exempt = {rule.rule for rule in _post_rules(app) if _is_exempt(app, rule)}
    api_rules = {rule.rule for rule in _post_rules(app) if rule.rule.startswith(API_PREFIX)}
    assert exempt == WEBHOOK_RULES | api_rules
    assert set(PROTECTED_RULES) == {rule.rule for rule in _post_rules(app)} - exempt
    # The whole API blueprint is exempt (its POST routes included, as they come); it is
    # mounted under /api/v1/ only.
    csrf: CSRFProtect = app.extensions["csrf"]
    assert app.blueprints["api"] in csrf._exempt_blueprints
    assert all(rule.rule.startswith(API_PREFIX) for rule in app.url_map.iter_rules()
               if rule.endpoint.startswith("api."))  # fmt: skip


def test_the_exempt_api_ignores_the_session_cookie(
    app: Flask, admin_client: FlaskClient, instructor: FlaskClient
) -> None:
    """A logged-in browser without a bearer key gets 401 from every API route and method."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            for client in (admin_client, instructor):
                response = client.open(rule.rule, method=method)
                assert response.status_code == 401, (rule.rule, method)


def _snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table, as text (order-independent)."""
    with app.app_context():
        tables = {
            table.name: sorted(repr(tuple(row)) for row in db.session.execute(sa.select(table)))
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
        return tables


def _url(app: Flask, rule_text: str, authorization_id: int) -> str:
    rule = next(r for r in _post_rules(app) if r.rule == rule_text)
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        values[name] = authorization_id if isinstance(converter, IntegerConverter) else DUMMY_TOKEN
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _acting_form(wiring: Wiring, people: People) -> dict[str, Any]:
    """Fields that would make any of our POST routes act if the token were not required."""
    calendars = [
        c["calendar_id"]
        for p in wiring.sandbox.control.person("ada@demo.test")["profiles"]
        for c in p["calendars"]
        if not c.get("readonly")
    ]
    return {
        "access_mode": "free_busy",
        "provider_name": "google",
        "calendar_id": calendars[-1],
        "calendar_ids": calendars[:1],
        "emails": "grace@demo.test",
        "email": people.instructor_email,
        "password": people.password,
    }


@pytest.fixture
def world(
    app: Flask, instructor: FlaskClient, admin_client: FlaskClient, people: People
) -> dict[str, Any]:
    """A connected instructor, a connected organisation and one pending authorization."""
    assert connect(instructor, "read_write").status_code == 302
    assert connect_organisation(admin_client).status_code == 302
    assert authorize(admin_client, "alan@demo.test").status_code == 200
    with app.app_context():
        authorization_id = db.session.scalar(sa.select(ServiceAccountAuthorization.id))
    assert authorization_id is not None
    return {"authorization_id": authorization_id}


@pytest.mark.parametrize("rule", PROTECTED_RULES)
def test_post_without_csrf_token_is_400_and_changes_nothing(
    app: Flask,
    world: dict[str, Any],
    instructor: FlaskClient,
    admin_client: FlaskClient,
    wiring: Wiring,
    people: People,
    rule: str,
) -> None:
    url = _url(app, rule, world["authorization_id"])
    form = _acting_form(wiring, people)
    before = _snapshot(app)
    for client in (instructor, admin_client):
        response = client.post(url, data=form)
        assert response.status_code == 400, (rule, response.status_code)
        assert CSRF_MESSAGE in response.get_data(as_text=True)
        assert _snapshot(app) == before
        assert client.get("/").status_code == 200  # still logged in (logout did not happen)
    # Control: the same form with a token is not refused as CSRF, so the 400 came from the token.
    token = csrf_token(instructor, "/calendars")
    response = instructor.post(url, data={**form, "csrf_token": token})
    assert CSRF_MESSAGE not in response.get_data(as_text=True)
