"""JSON request bodies through ``endpoint``: what POST endpoints (bookings) build on.

No /api/v1 route takes a body yet, so a probe view is declared with the same ``endpoint``
decorator on a test app: a malformed body is 400 ``invalid_json``, a body that breaks the
schema is 422 with a message per field, a good body reaches the view parsed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import Field

from tests.integration.api.conftest import assert_error
from tests.webapp_fixtures import app_test_config
from webapp import create_app
from webapp.views.api.openapi import endpoint
from webapp.views.api.schemas import Schema


class ProbeBody(Schema):
    """A body with a required name and a positive count."""

    name: str = Field(min_length=1)
    count: int = Field(gt=0)


class ProbeResponse(Schema):
    """What the probe saw."""

    echoed: str


def probe(json: ProbeBody) -> ProbeResponse:
    """Echo the parsed body."""
    return ProbeResponse(echoed=f"{json.name} x{json.count}")


@pytest.fixture(scope="module")
def probe_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """A test app with the probe view declared by ``endpoint``."""
    instance: Path = tmp_path_factory.mktemp("instance")
    # Off for this app only: /api/v1 is exempt through its blueprint, the probe has none.
    app: Flask = create_app(app_test_config("sqlite://", instance, WTF_CSRF_ENABLED=False))
    app.add_url_rule(
        "/api/probe", view_func=endpoint(response=ProbeResponse)(probe), methods=["POST"]
    )
    return app.test_client()


def test_a_good_body_reaches_the_view_parsed(probe_client: FlaskClient) -> None:
    response = probe_client.post("/api/probe", json={"name": "Ada", "count": 2})
    assert response.status_code == 200
    assert response.json == {"echoed": "Ada x2"}


def test_a_malformed_body_is_400_invalid_json(probe_client: FlaskClient) -> None:
    response = probe_client.post(
        "/api/probe", data=b'{"name": "Ada",', content_type="application/json"
    )
    assert_error(response, 400, "invalid_json", {})


def test_a_body_breaking_the_schema_is_422_per_field(probe_client: FlaskClient) -> None:
    response = probe_client.post("/api/probe", json={"count": "many", "colour": "red"})
    assert_error(
        response,
        422,
        "validation_failed",
        {"name": "Required", "count": "whole number", "colour": "Not a field of this request"},
    )
