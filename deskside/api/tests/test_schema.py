"""The OpenAPI document is the contract every router must keep.

These walk the generated schema rather than a list of endpoints, so an endpoint added by
any app later is held to the same rules without anyone remembering to add it here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from deskside.api.api import DesksideAPI, api

pytestmark = pytest.mark.django_db

ENVELOPE = {"items", "count", "page", "page_size", "pages"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    # The document as clients receive it (JSON, string status codes), not ninja's objects.
    document: dict[str, Any] = json.loads(
        json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=NinjaJSONEncoder)
    )
    return document


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = schema["components"]["schemas"][name]
    return node


def success_schemas(
    schema: dict[str, Any], operation: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for status, response in operation["responses"].items():
        if not re.fullmatch(r"2\d\d", status):
            continue
        for media in response.get("content", {}).values():
            yield status, resolve(schema, media["schema"])


def test_schema_is_served_without_signing_in() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/people" in document["paths"]


def test_there_are_operations_to_check(schema: dict[str, Any]) -> None:
    assert len(list(operations(schema))) >= 5


def unprotected(schema: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if not operation.get("security")
    ]


def unpaginated_lists(schema: dict[str, Any]) -> list[str]:
    # Lists nested in one object (a person's phones) are bounded and fine; a collection
    # at the top of a response must be paginated, or it grows without limit.
    problems = []
    for path, method, operation in operations(schema):
        if method != "get":
            continue
        for status, body in success_schemas(schema, operation):
            where = f"GET {path} ({status})"
            properties = body.get("properties", {})
            if body.get("type") == "array":
                problems.append(f"{where} returns a bare list; decorate it with @paginated.")
            elif "items" in properties and set(properties) != ENVELOPE:
                problems.append(f"{where} has 'items' but not the pagination envelope.")
    return problems


def test_every_operation_requires_authentication(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"
    assert unprotected(schema) == [], "These accept anonymous callers; give them auth."


def test_no_list_is_returned_without_the_paginated_envelope(schema: dict[str, Any]) -> None:
    assert unpaginated_lists(schema) == []


def test_the_checks_catch_a_careless_router() -> None:
    careless = DesksideAPI(title="Careless", urls_namespace="careless")

    class Thing(Schema):
        id: int

    @careless.get("/things", response=list[Thing])
    def things(request: HttpRequest) -> list[dict[str, int]]:
        return []

    @careless.get("/open", auth=None, response=Thing)
    def wide_open(request: HttpRequest) -> dict[str, int]:
        return {"id": 1}

    document = json.loads(
        json.dumps(careless.get_openapi_schema(path_prefix="/x/"), cls=NinjaJSONEncoder)
    )
    assert unpaginated_lists(document) == [
        "GET /x/things (200) returns a bare list; decorate it with @paginated."
    ]
    assert unprotected(document) == ["GET /x/open"]


def test_paginated_lists_take_page_parameters(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        if method != "get":
            continue
        for _status, body in success_schemas(schema, operation):
            if set(body.get("properties", {})) == ENVELOPE:
                names = {parameter["name"] for parameter in operation.get("parameters", [])}
                assert {"page", "page_size"} <= names, path


def test_every_operation_documents_the_error_shape(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        default = operation["responses"].get("default")
        assert default is not None, f"{method.upper()} {path}"
        ref = default["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Error"
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_every_operation_has_a_stable_id(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _path, _method, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", operation_id) for operation_id in ids), ids


def test_docs_page_loads_nothing_from_elsewhere() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert [source for source in sources if not source.startswith("/")] == []
