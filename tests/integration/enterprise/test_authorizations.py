"""Authorizing instructors through the service account: batches, callbacks, errors, retry."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.enterprise.conftest import (
    Tenants,
    add_people,
    authorization_states,
    authorize,
    connect_organisation,
    page_token,
    wait_settled,
)
from tests.sandbox_fixtures import RunningSandbox
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    AuthorizationStatus,
    CalendarConnection,
    ConnectMethod,
    ServiceAccountAuthorization,
)

SAA_PATH = "/v1/service_account_authorizations"


def _sends(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return [r for r in sandbox.control.requests() if str(r["path"]).endswith(SAA_PATH)]


def _ec_deliveries(sandbox: RunningSandbox) -> list[dict[str, str]]:
    return [d for d in sandbox.control.deliveries() if d["kind"] == "service_account_authorization"]


def _connections(app: Flask) -> dict[int, CalendarConnection]:
    with app.app_context():
        rows = db.session.scalars(sa.select(CalendarConnection)).all()
        db.session.expunge_all()
        return {row.user_id: row for row in rows}


def test_full_flow_connects_two_instructors(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    connect_organisation(admin_client, mode="free_busy", provider="google")
    page = authorize(admin_client, "ada@demo.test\ngrace@demo.test").get_data(as_text=True)
    assert "Sent to Cronofy: ada@demo.test, grace@demo.test." in page
    states = wait_settled(app, 2)
    assert states == {
        "ada@demo.test": ("authorized", None),
        "grace@demo.test": ("authorized", None),
    }
    connections = _connections(app)
    for email in ("ada@demo.test", "grace@demo.test"):
        connection = connections[tenants.instructor_ids[email]]
        assert connection.method is ConnectMethod.ENTERPRISE
        assert connection.access_mode is AccessMode.FREE_BUSY  # granted, from Cronofy
        assert connection.access_token_encrypted
    assert tenants.instructor_ids["alan@demo.test"] not in connections
    table = admin_client.get("/enterprise").get_data(as_text=True)
    assert table.count('<span class="status status-ok">connected</span>') == 2


def test_each_authorization_has_its_own_callback_url(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test, grace@demo.test")
    wait_settled(app, 2)
    urls = [d["url"] for d in _ec_deliveries(sandbox)]
    assert len(urls) == 2
    assert len(set(urls)) == 2
    assert all(u.startswith(f"{served}/webhooks/cronofy/enterprise/") for u in urls)
    with app.app_context():
        hashes = set(db.session.scalars(sa.select(ServiceAccountAuthorization.state_hash)))
    assert not any(url.rsplit("/", 1)[1] in hashes for url in urls)  # digest stored, not token


def test_unknown_duplicate_and_invalid_emails_are_reported_not_sent(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    sandbox.control.clear_requests()
    entered = (
        "ada@demo.test, ADA@demo.test\nnot-an-address; bob@other.test\n"
        "nobody@demo.test admin@demo.test"
    )
    page = authorize(admin_client, entered).get_data(as_text=True)
    assert "Sent to Cronofy: ada@demo.test." in page
    assert "Not valid e-mail addresses: not-an-address." in page
    assert "Listed more than once (sent once): ada@demo.test." in page
    assert (
        "Not instructors of this organisation (not sent): "
        "bob@other.test, nobody@demo.test, admin@demo.test." in page
    )
    assert len(_sends(sandbox)) == 1
    assert set(wait_settled(app, 1)) == {"ada@demo.test"}


def test_more_than_fifty_are_sent_in_batches_of_at_most_fifty(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    emails = [f"person{i:03}@demo.test" for i in range(120)]
    add_people(app, emails)
    connect_organisation(admin_client)
    sandbox.control.clear_requests()
    authorize(admin_client, "\n".join(emails))
    sends = _sends(sandbox)
    # The sandbox answers 422 to a batch of more than 50; three 202s carry all 120.
    assert [r["status"] for r in sends] == [202, 202, 202]
    states = wait_settled(app, 120, timeout=60)
    # Unknown to the sandbox's directory: Cronofy answers each with unable_to_grant_scope.
    assert {s for s, _ in states.values()} == {"failed"}
    assert len(_ec_deliveries(sandbox)) == 120


def test_csv_upload_with_an_email_column(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    csv = b"\xef\xbb\xbfname,Email\nAda,ada@demo.test\nGrace,grace@demo.test\nBad,nope\n"
    page = authorize(admin_client, csv=csv).get_data(as_text=True)
    assert "Sent to Cronofy: ada@demo.test, grace@demo.test." in page
    assert "Not valid e-mail addresses: nope." in page
    assert set(wait_settled(app, 2)) == {"ada@demo.test", "grace@demo.test"}


def test_csv_without_an_email_column_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    page = authorize(admin_client, csv=b"name,phone\nAda,123\n").get_data(as_text=True)
    assert "needs a column named email" in page
    assert authorization_states(app) == {}


def test_oversized_csv_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    page = authorize(admin_client, csv=b"ada@demo.test\n" * 6000).get_data(as_text=True)
    assert "larger than 64 KB" in page
    assert authorization_states(app) == {}


def test_empty_submission_is_refused(admin_client: FlaskClient, sandbox: RunningSandbox) -> None:
    connect_organisation(admin_client)
    assert "Paste at least one" in authorize(admin_client, " \n ").get_data(as_text=True)


def test_authorizing_before_connecting_says_what_to_do(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    page = authorize(admin_client, "ada@demo.test").get_data(as_text=True)
    assert "Connect the organisation with Enterprise Connect first." in page
    assert _sends(sandbox) == []


def test_error_callback_is_shown_and_retry_connects(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    (zed_id,) = add_people(app, ["zed@demo.test"])
    connect_organisation(admin_client)
    authorize(admin_client, "zed@demo.test")
    status, error = wait_settled(app, 1)["zed@demo.test"]
    assert status == "failed"
    assert error is not None
    assert error.startswith("unable_to_grant_scope: ")
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert "unable_to_grant_scope" in page
    assert "Retry</button>" in page
    sandbox.control.add_person("zed@demo.test", "Zed")  # now Cronofy can grant it
    with app.app_context():
        row_id = db.session.scalar(sa.select(ServiceAccountAuthorization.id))
    response = admin_client.post(
        f"/enterprise/authorizations/{row_id}/retry",
        data={"csrf_token": page_token(admin_client)},
        follow_redirects=True,
    )
    assert "Sent zed@demo.test to Cronofy again." in response.get_data(as_text=True)
    assert wait_settled(app, 1)["zed@demo.test"] == ("authorized", None)
    with app.app_context():
        row = db.session.get(ServiceAccountAuthorization, row_id)
        assert row is not None
        assert row.attempts == 2
        assert row.status is AuthorizationStatus.AUTHORIZED
    assert zed_id in _connections(app)


def test_pasting_a_connected_instructor_again_is_not_resent(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test")
    wait_settled(app, 1)
    sandbox.control.clear_requests()
    page = authorize(admin_client, "ada@demo.test").get_data(as_text=True)
    assert "Already connected (not sent again): ada@demo.test." in page
    assert _sends(sandbox) == []


def test_send_failure_marks_the_batch_failed(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    sandbox.control.fail_next(500, count=1, path_prefix=SAA_PATH)
    page = authorize(admin_client, "ada@demo.test").get_data(as_text=True)
    assert "Could not be sent (see the table; retry later): ada@demo.test." in page
    status, error = authorization_states(app)["ada@demo.test"]
    assert status == "failed"
    assert error is not None
    assert "not sent" in error
