"""/api/openapi.json: a valid OpenAPI 3.1 document of every /api/v1 route, from the schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.webapp_fixtures import app_test_config
from webapp import create_app
from webapp.views.api.schemas import ErrorResponse, ServicesQuery

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app without a database: the document does not depend on one."""
    instance: Path = tmp_path_factory.mktemp("instance")
    return create_app(app_test_config("sqlite://", instance))


@pytest.fixture(scope="module")
def document(docs_app: Flask) -> dict[str, Any]:
    """The served document (public: no key needed)."""
    response = docs_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json or {}
    return body


def _openapi_path(rule: str) -> str:
    return rule.replace("<int:", "{").replace("<", "{").replace(">", "}")


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()


def test_the_document_lists_every_api_v1_route_and_method(
    docs_app: Flask, document: dict[str, Any]
) -> None:
    served = {
        (_openapi_path(rule.rule), method.lower())
        for rule in docs_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served
    assert documented == served


def test_every_operation_needs_the_bearer_key_and_documents_the_error_shape(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (bcb_…).",
    }
    assert document["security"] == [{"bearerAuth": []}]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for item in document["paths"].values():
        for operation in item.values():
            for status in ("401", "422"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == error_ref
    error_schema = document["components"]["schemas"]["ErrorResponse"]
    assert error_schema["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert set(ErrorResponse.model_fields) == set(error_schema["properties"])


def test_query_parameters_come_from_the_schema_that_validates_them(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/api/v1/services"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(parameters) == set(ServicesQuery.model_fields)
    instructor = parameters["instructor"]
    assert instructor["required"] is False
    bounded = {"type": "integer", "exclusiveMinimum": 0, "maximum": 2**31 - 1}
    assert bounded in instructor["schema"]["anyOf"]
