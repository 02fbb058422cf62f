"""The tickets part of the OpenAPI document: every operation is there, with its contract.

deskside/api/tests/test_schema.py holds every operation to the general rules
(authentication, paginated lists, the error shape); this pins down which ticket operations
exist, so one cannot disappear or change its address unnoticed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ninja.responses import NinjaJSONEncoder

from deskside.api.api import api

EXPECTED = {
    ("get", "/api/v1/tickets"): "tickets_list",
    ("post", "/api/v1/tickets"): "tickets_create",
    ("get", "/api/v1/tickets/{ticket_id}"): "tickets_get",
    ("patch", "/api/v1/tickets/{ticket_id}"): "tickets_update",
    ("post", "/api/v1/tickets/{ticket_id}/resolve"): "tickets_resolve",
    ("post", "/api/v1/tickets/{ticket_id}/reopen"): "tickets_reopen",
    ("post", "/api/v1/tickets/{ticket_id}/merge"): "tickets_merge",
    ("post", "/api/v1/tickets/{ticket_id}/links"): "ticket_links_create",
    ("delete", "/api/v1/tickets/{ticket_id}/links/{link_id}"): "ticket_links_delete",
    ("get", "/api/v1/tickets/{ticket_id}/messages"): "ticket_messages_list",
    ("post", "/api/v1/tickets/{ticket_id}/messages"): "ticket_messages_create",
    ("post", "/api/v1/tickets/{ticket_id}/attachments"): "ticket_attachments_upload",
    ("get", "/api/v1/attachments/{key}"): "attachments_download",
    ("get", "/api/v1/categories"): "categories_list",
    ("get", "/api/v1/statuses"): "statuses_list",
    ("post", "/api/v1/people"): "people_create",
    ("post", "/api/v1/teams"): "teams_create",
}
PAGINATED = {"tickets_list", "ticket_messages_list", "categories_list", "statuses_list"}
ENVELOPE = {"items", "count", "page", "page_size", "pages"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=NinjaJSONEncoder)
    )
    return document


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["paths"][path][method]
    return found


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_ticket_operation_is_published(schema: dict[str, Any]) -> None:
    published = {
        (method, path): details["operationId"]
        for path, item in schema["paths"].items()
        for method, details in item.items()
        if (method, path) in EXPECTED
    }
    assert published == EXPECTED


def test_each_is_authenticated_and_documents_errors(schema: dict[str, Any]) -> None:
    for method, path in EXPECTED:
        details = operation(schema, method, path)
        schemes = {name for requirement in details["security"] for name in requirement}
        assert schemes == {"TokenAuth", "SessionAuth"}, path
        assert details["responses"]["default"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_lists_are_paginated(schema: dict[str, Any]) -> None:
    for (method, path), operation_id in EXPECTED.items():
        if operation_id not in PAGINATED:
            continue
        details = operation(schema, method, path)
        body = resolve(schema, details["responses"]["200"]["content"]["application/json"]["schema"])
        assert set(body["properties"]) == ENVELOPE, path
        names = {parameter["name"] for parameter in details["parameters"]}
        assert {"page", "page_size"} <= names


def test_ticket_filters_are_documented(schema: dict[str, Any]) -> None:
    details = operation(schema, "get", "/api/v1/tickets")
    names = {parameter["name"] for parameter in details["parameters"]}
    assert {"queue", "sort", "status", "kind", "priority", "team", "assignee", "category",
            "channel", "tag", "requester", "created_after", "created_before"} <= names  # fmt: skip


def test_request_bodies_refuse_unknown_fields(schema: dict[str, Any]) -> None:
    for method, path in EXPECTED:
        content = operation(schema, method, path).get("requestBody", {}).get("content", {})
        if "application/json" in content:
            node = content["application/json"]["schema"]
            # An optional body is "the schema or null".
            node = next((option for option in node.get("anyOf", []) if "$ref" in option), node)
            body = resolve(schema, node)
            assert body.get("additionalProperties") is False, path


def test_upload_is_multipart_and_download_is_a_file(schema: dict[str, Any]) -> None:
    upload = operation(schema, "post", "/api/v1/tickets/{ticket_id}/attachments")
    assert "multipart/form-data" in upload["requestBody"]["content"]
    download = operation(schema, "get", "/api/v1/attachments/{key}")
    assert download["responses"]["200"]["content"]["application/octet-stream"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
