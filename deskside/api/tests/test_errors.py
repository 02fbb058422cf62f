"""The one error shape, for every way a request can fail.

Failures the real endpoints cannot be made to produce on demand (a crash, a service
rejecting a write, a refused change, throttling, a CSRF check on an unsafe method) are
exercised through a small API built here the same way as the real one, mounted only for
these tests. It reaches no data, so it proves the plumbing and nothing else.
"""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.test import Client
from django.urls import path
from ninja import Schema
from ninja.errors import Throttled

from deskside.api.api import DesksideAPI
from deskside.api.auth import caller
from deskside.api.errors import ApiError
from deskside.api.testing import assert_error, token_client
from deskside.testing import PASSWORD, Personas
from deskside.urls import urlpatterns as site_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls("deskside.api.tests.test_errors")]

probe = DesksideAPI(title="Error probe", urls_namespace="error-probe")


class NoteIn(Schema):
    text: str


@probe.get("/crash")
def crash(request: HttpRequest) -> None:
    raise RuntimeError("secret internals: password=hunter2")


@probe.get("/service-rejects-field")
def service_rejects_field(request: HttpRequest) -> None:
    raise ValidationError(
        {"email": ValidationError("ada@example.com already belongs to someone else.", "taken")}
    )


@probe.get("/service-rejects")
def service_rejects(request: HttpRequest) -> None:
    raise ValidationError("Make them an agent first.", code="not_an_agent")


@probe.get("/forbidden")
def forbidden(request: HttpRequest) -> None:
    raise PermissionDenied


@probe.get("/throttled")
def throttled(request: HttpRequest) -> None:
    raise Throttled(wait=30)


@probe.get("/conflict")
def conflict(request: HttpRequest) -> None:
    raise ApiError(409, "already_merged", "This ticket was merged; open the other one.")


@probe.post("/notes")
def add_note(request: HttpRequest, note: NoteIn) -> dict[str, str]:
    return {"by": caller(request).email, "text": note.text}


# The probe is mounted beside the real site, so both can be checked from this file.
urlpatterns = [path("probe/", probe.urls), *site_urlpatterns]


def test_crash_is_a_500_without_internals_and_is_logged(
    personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="deskside.api"):
        response = token_client(personas.agent).get("/probe/crash")
    error = assert_error(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    reference = error["details"]["reference"]
    assert reference in error["message"]
    logged = [record for record in caplog.records if reference in record.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_service_field_error_is_a_400_with_field_details(personas: Personas) -> None:
    error = assert_error(
        token_client(personas.agent).get("/probe/service-rejects-field"), 400, "invalid"
    )
    assert error["details"]["fields"]["email"] == [
        {"code": "taken", "message": "ada@example.com already belongs to someone else."}
    ]
    assert error["message"] == "ada@example.com already belongs to someone else."


def test_service_error_without_a_field_is_about_the_whole_request(personas: Personas) -> None:
    error = assert_error(token_client(personas.agent).get("/probe/service-rejects"), 400, "invalid")
    assert error["details"]["fields"]["__all__"][0]["code"] == "not_an_agent"


def test_permission_denied_is_a_403(personas: Personas) -> None:
    assert_error(token_client(personas.agent).get("/probe/forbidden"), 403, "forbidden")


def test_throttled_is_a_429_that_says_when_to_retry(personas: Personas) -> None:
    response = token_client(personas.agent).get("/probe/throttled")
    error = assert_error(response, 429, "too_many_requests")
    assert error["details"] == {"retry_after_seconds": 30}
    assert "30 seconds" in error["message"]


def test_routers_can_raise_their_own_coded_errors(personas: Personas) -> None:
    error = assert_error(token_client(personas.agent).get("/probe/conflict"), 409, "already_merged")
    assert error["message"] == "This ticket was merged; open the other one."


def test_unreadable_body_is_a_400(personas: Personas) -> None:
    response = token_client(personas.agent).post(
        "/probe/notes", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "unreadable_body")


def test_invalid_body_is_a_422_naming_the_field(personas: Personas) -> None:
    response = token_client(personas.agent).post(
        "/probe/notes", {"text": 5}, content_type="application/json"
    )
    error = assert_error(response, 422, "validation_failed")
    # The name the client sent, not the endpoint's parameter name.
    assert list(error["details"]["fields"]) == ["text"]


def test_session_post_without_csrf_token_is_refused(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.agent)
    response = client.post("/probe/notes", {"text": "hi"}, content_type="application/json")
    assert_error(response, 403, "csrf_failed")


def test_session_post_with_csrf_token_is_accepted(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=personas.agent.email, password=PASSWORD)
    # Pages that render the CSRF token set its cookie; the API docs page is one of them.
    client.get("/api/v1/docs")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/probe/notes",
        {"text": "hi"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"by": personas.agent.email, "text": "hi"}


def test_token_post_needs_no_csrf_token(personas: Personas) -> None:
    client = token_client(personas.agent)
    client.handler.enforce_csrf_checks = True
    response = client.post("/probe/notes", {"text": "hi"}, content_type="application/json")
    assert response.status_code == 200, response.content


def test_unauthenticated_post_is_a_401_not_a_csrf_error(personas: Personas) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/probe/notes", {"text": "hi"}, content_type="application/json"
    )
    assert_error(response, 401, "not_authenticated")


# --- The real API --------------------------------------------------------------------------


def test_bad_query_value_is_a_422_naming_the_field(personas: Personas) -> None:
    error = assert_error(
        token_client(personas.agent).get("/api/v1/people?page=abc"), 422, "validation_failed"
    )
    assert error["details"]["fields"]["page"][0]["code"] == "int_parsing"
    assert error["details"]["fields"]["page"][0]["message"].startswith("Enter a whole number")


def test_unknown_address_under_the_api_is_a_404_in_the_error_shape(personas: Personas) -> None:
    client = token_client(personas.agent)
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(client.get("/api/v1/"), 404, "not_found")


def test_unsupported_method_is_a_405_listing_what_is_allowed(personas: Personas) -> None:
    response = token_client(personas.agent).delete("/api/v1/me")
    error = assert_error(response, 405, "method_not_allowed")
    assert error["details"] == {"allowed": ["GET"]}
    assert response["Allow"] == "GET"
