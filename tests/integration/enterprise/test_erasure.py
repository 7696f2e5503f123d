"""An instructor connected by their organisation (Enterprise Connect) erases their account:
nothing of them stays in our database; the organisation's own connection stays."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.enterprise.conftest import (
    INSTRUCTORS,
    PASSWORD,
    Tenants,
    authorize,
    connect_organisation,
    wait_settled,
)
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import csrf_token, log_in
from webapp.extensions import db
from webapp.models import CalendarConnection, ServiceAccount, ServiceAccountAuthorization


def _dump(app: Flask) -> str:
    with app.app_context():
        return "\n".join(
            f"{table.name}: {tuple(row)!r}"
            for table in db.metadata.sorted_tables
            for row in db.session.execute(sa.select(table))
        )


@pytest.mark.requirement(25)
def test_an_enterprise_connected_instructor_erases_every_trace_of_themselves(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    ada = INSTRUCTORS[0]
    connect_organisation(admin_client, mode="read_write", provider="google")
    authorize(admin_client, ada)
    assert wait_settled(app, 1) == {ada: ("authorized", None)}
    assert ada in _dump(app)

    client = app.test_client()
    assert log_in(client, ada, PASSWORD).status_code == 302
    export = client.get("/me/export")
    assert export.status_code == 200
    assert "enterprise" in export.get_data(as_text=True).lower()
    erased = client.post("/me/erase", data={"csrf_token": csrf_token(client, "/me/erase"),
                                            "confirm_email": ada})  # fmt: skip
    assert erased.status_code == 303

    text = _dump(app)
    assert ada not in text.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(ServiceAccountAuthorization))
            == 0
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceAccount)) == 1
