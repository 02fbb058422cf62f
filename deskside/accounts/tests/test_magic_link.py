from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def request_link(client: Client, email: str) -> str:
    response = client.post(reverse("accounts:magic_link"), {"email": email})
    assert response.status_code == 200
    return response.content.decode()


def link_from_outbox() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"https?://\S+/sign-in-link/\S+/", str(mail.outbox[0].body))
    assert match is not None
    return "/" + match.group(0).split("://", 1)[1].split("/", 1)[1]


def test_requester_signs_in_with_emailed_link(client: Client, personas: Personas) -> None:
    request_link(client, personas.requester.email)
    assert mail.outbox[0].to == [personas.requester.email]
    path = link_from_outbox()
    # Opening the link (as a mail scanner would) does not sign in or use it up.
    page = client.get(path)
    assert page.status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(path)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.requester.pk)
    assert client.get(reverse("home"))["Location"] == reverse("portal:home")


def test_link_works_once(client: Client, personas: Personas) -> None:
    request_link(client, personas.requester.email)
    path = link_from_outbox()
    client.post(path)
    client.logout()
    again = client.post(path)
    assert again.status_code == 400
    assert "no longer works" in again.content.decode()


def test_link_for_any_other_address_is_rejected(client: Client, personas: Personas) -> None:
    request_link(client, personas.requester.email)
    path = link_from_outbox()
    tampered = re.sub(r"/sign-in-link/[^/]+/", "/sign-in-link/Mg/", path)
    assert client.post(tampered).status_code == 400


def test_secondary_address_also_gets_a_link(client: Client, personas: Personas) -> None:
    from deskside.accounts.services import person_add_email

    person_add_email(user=personas.requester, email="ada.home@example.org")
    request_link(client, "Ada.Home@example.org")
    assert mail.outbox[0].to == ["ada.home@example.org"]


def test_unknown_and_staff_addresses_get_the_same_answer_and_no_mail(
    client: Client, personas: Personas
) -> None:
    known = request_link(client, personas.requester.email)
    mail.outbox.clear()
    unknown = request_link(client, "stranger@example.com")
    staff = request_link(client, personas.agent.email)
    assert mail.outbox == []
    assert "a sign-in link is on its way" in unknown
    assert "a sign-in link is on its way" in staff
    assert "a sign-in link is on its way" in known


@override_settings(LOGIN_ATTEMPTS_PER_WINDOW=2)
def test_link_requests_are_rate_limited(client: Client, personas: Personas) -> None:
    for _ in range(2):
        request_link(client, personas.requester.email)
    response = client.post(reverse("accounts:magic_link"), {"email": personas.requester.email})
    assert response.status_code == 429
    assert len(mail.outbox) == 2
