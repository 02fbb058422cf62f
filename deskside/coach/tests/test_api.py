"""POST /api/v1/coach/analyze: the coach for scripts and the web UI."""

from __future__ import annotations

import pytest
from django.test import Client

from deskside.accounts.models import TokenScope
from deskside.api.testing import assert_error, token_client
from deskside.coach.api import MAX_TEXT_CHARS
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

URL = "/api/v1/coach/analyze"
EXAMPLE = "Please flush your DNS cache and reconnect to the VPN"
ISSUE_FIELDS = {
    "kind",
    "start",
    "end",
    "text",
    "severity",
    "message",
    "suggestions",
    "explanation",
    "term_id",
}


@pytest.fixture(autouse=True)
def _terms(shipped_terms: None) -> None:
    """Every test here uses the shipped dictionary."""


def test_the_issue_example_flags_dns_and_vpn_with_plain_alternatives(
    personas: Personas,
) -> None:
    client = token_client(personas.agent)
    response = client.post(
        URL, {"text": EXAMPLE, "reader_name": "Alex"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"issues", "grade", "reading_ease", "words", "sentences", "summary"}
    by_text = {issue["text"]: issue for issue in body["issues"]}
    for issue in body["issues"]:
        assert set(issue) == ISSUE_FIELDS
        assert EXAMPLE[issue["start"] : issue["end"]] == issue["text"]
    vpn, dns = by_text["VPN"], by_text["DNS"]
    assert (vpn["kind"], vpn["term_id"], vpn["severity"]) == ("acronym", "vpn", "warning")
    assert "secure connection to the office network" in vpn["suggestions"]
    assert vpn["message"] == "Alex might not know “VPN” (virtual private network)."
    assert (dns["kind"], dns["term_id"]) == ("acronym", "dns")
    assert dns["suggestions"]
    assert body["words"] == 10
    assert "terms to explain" in body["summary"]


def test_known_terms_and_context_are_respected(personas: Personas) -> None:
    client = token_client(personas.agent)
    response = client.post(
        URL,
        {"text": EXAMPLE, "known_terms": ["VPN"], "context": "My DNS settings look odd."},
        content_type="application/json",
    )
    texts = {issue["text"] for issue in response.json()["issues"]}
    assert not {"VPN", "DNS"} & texts


def test_a_read_only_token_may_call_it(personas: Personas) -> None:
    client = token_client(personas.requester, scope=TokenScope.READ)
    response = client.post(URL, {"text": EXAMPLE}, content_type="application/json")
    assert response.status_code == 200, response.json()


def test_a_signed_in_person_may_call_it(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.requester)
    response = client.post(URL, {"text": "Reboot the PC."}, content_type="application/json")
    assert response.status_code == 200, response.json()


def test_without_signing_in_it_answers_401(db: None) -> None:
    response = Client().post(URL, {"text": EXAMPLE}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")


def test_a_bad_token_answers_401(db: None) -> None:
    client = Client(headers={"Authorization": "Bearer not-a-real-token"})
    response = client.post(URL, {"text": EXAMPLE}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")


def test_too_long_text_answers_400_in_plain_words(personas: Personas) -> None:
    client = token_client(personas.agent)
    text = "word " * (MAX_TEXT_CHARS // 5) + "more"
    response = client.post(URL, {"text": text}, content_type="application/json")
    error = assert_error(response, 400, "too_long")
    assert error["message"].startswith("The text is too long to check")
    assert "Check it in parts" in error["message"]
    assert error["details"]["fields"]["text"][0]["code"] == "string_too_long"


def test_text_at_the_limit_is_checked(personas: Personas) -> None:
    client = token_client(personas.agent)
    text = ("Restart the laptop. " * MAX_TEXT_CHARS)[:MAX_TEXT_CHARS]
    response = client.post(URL, {"text": text}, content_type="application/json")
    assert response.status_code == 200


def test_unknown_fields_and_missing_text_use_the_error_shape(personas: Personas) -> None:
    client = token_client(personas.agent)
    response = client.post(URL, {"text": "Hi", "colour": "red"}, content_type="application/json")
    assert_error(response, 400, "unknown_field")
    response = client.post(URL, {}, content_type="application/json")
    error = assert_error(response, 422, "validation_failed")
    assert "text" in error["details"]["fields"]


def test_only_post_is_allowed(personas: Personas) -> None:
    response = token_client(personas.agent).get(URL)
    assert_error(response, 405, "method_not_allowed")
