"""Bulk authorization feedback: results kept per submission and coloured by severity; Retry
only on failures; the status table refreshes itself while anything is pending."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.enterprise.conftest import (
    Tenants,
    authorize,
    connect_organisation,
    wait_settled,
)
from tests.sandbox_fixtures import RunningSandbox
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    AuthorizationStatus,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.security import token_digest


def _result_classes(page: str) -> dict[str, str]:
    """data-outcome -> severity class of each result line."""
    found = re.findall(r'class="result result-(\w+)" data-outcome="(\w+)"', page)
    return {outcome: severity for severity, outcome in found}


def test_results_stay_listed_after_a_reload_coloured_by_severity(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    submitted = authorize(
        admin_client, "ada@demo.test, ada@demo.test, nobody@demo.test, not-an-address"
    ).get_data(as_text=True)
    assert "need your attention" in submitted
    wait_settled(app, 1)
    page = admin_client.get("/enterprise").get_data(as_text=True)  # a plain reload
    assert _result_classes(page) == {
        "invalid": "error",
        "unknown": "warning",
        "duplicate": "info",  # harmless: sent once, not red
        "sent": "success",
    }
    assert "Sent to Cronofy: ada@demo.test." in page
    assert "Not valid e-mail addresses: not-an-address." in page


def test_only_the_newest_submission_is_shown(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "not-an-address")
    authorize(admin_client, "grace@demo.test")
    wait_settled(app, 1)
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert _result_classes(page) == {"sent": "success"}


def _rows(app: Flask, tenants: Tenants, statuses: dict[str, AuthorizationStatus]) -> None:
    cipher = app.extensions["token_cipher"]
    with app.app_context():
        admin = db.session.get(User, tenants.admin_id)
        assert admin is not None
        account = ServiceAccount(
            organisation_id=admin.organisation_id,
            cronofy_sub="ser_test",
            data_center="us",
            access_token_encrypted=cipher.encrypt("fake-access"),
            refresh_token_encrypted=cipher.encrypt("fake-refresh"),
            access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
            access_mode=AccessMode.READ_WRITE,
        )
        db.session.add(account)
        db.session.flush()
        for email, status in statuses.items():
            db.session.add(
                ServiceAccountAuthorization(
                    service_account_id=account.id,
                    email=email,
                    user_id=tenants.instructor_ids[email],
                    state_hash=token_digest(f"token-{email}"),
                    status=status,
                    error="unable_to_grant_scope" if status is AuthorizationStatus.FAILED else None,
                    attempts=1,
                )
            )
        db.session.commit()


def _row_html(page: str, email: str) -> str:
    return page.split(f'<tr data-email="{email}">', 1)[1].split("</tr>", 1)[0]


def test_retry_is_offered_on_failures_only_and_the_table_refreshes_while_pending(
    app: Flask, admin_client: FlaskClient, tenants: Tenants
) -> None:
    _rows(
        app,
        tenants,
        {
            "ada@demo.test": AuthorizationStatus.PENDING,
            "grace@demo.test": AuthorizationStatus.FAILED,
        },
    )
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert "Retry</button>" not in _row_html(page, "ada@demo.test")
    assert "Retry</button>" in _row_html(page, "grace@demo.test")
    assert 'data-pending="true"' in page
    assert "enterprise-status.js" in page
    assert "updates by itself" in page


def test_nothing_pending_means_no_refreshing(
    app: Flask, admin_client: FlaskClient, tenants: Tenants
) -> None:
    _rows(app, tenants, {"grace@demo.test": AuthorizationStatus.FAILED})
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert 'data-pending="false"' in page
    assert "updates by itself" not in page
