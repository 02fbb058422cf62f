from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from deskside.testing import PASSWORD, Personas

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str) -> object:
    return client.post(reverse("accounts:login"), {"email": email, "password": password})


def test_agent_lands_in_console(client: Client, personas: Personas) -> None:
    response = sign_in(client, personas.agent.email, PASSWORD)
    assert response.status_code == 302  # type: ignore[attr-defined]
    home = client.get(reverse("home"))
    assert home["Location"] == reverse("tickets:console_home")
    page = client.get(reverse("tickets:console_home"))
    assert page.status_code == 200
    assert "Hello, Xena" in page.content.decode()


def test_requester_lands_in_portal_and_is_kept_out_of_console(
    client: Client, personas: Personas
) -> None:
    sign_in(client, personas.requester.email, PASSWORD)
    assert client.get(reverse("home"))["Location"] == reverse("portal:home")
    response = client.get(reverse("tickets:console_home"))
    assert response["Location"] == reverse("portal:home")


def test_email_is_case_insensitive(client: Client, personas: Personas) -> None:
    response = sign_in(client, "XENA@Example.com", PASSWORD)
    assert response.status_code == 302  # type: ignore[attr-defined]


def test_wrong_password_gets_plain_error(client: Client, personas: Personas) -> None:
    response = client.post(
        reverse("accounts:login"), {"email": personas.agent.email, "password": "nope"}
    )
    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_person_cannot_sign_in(client: Client, personas: Personas) -> None:
    personas.agent.is_active = False
    personas.agent.save()
    response = client.post(
        reverse("accounts:login"), {"email": personas.agent.email, "password": PASSWORD}
    )
    assert response.status_code == 400


@override_settings(LOGIN_ATTEMPTS_PER_WINDOW=3)
def test_sign_in_is_rate_limited_even_with_the_right_password(
    client: Client, personas: Personas
) -> None:
    for _ in range(3):
        client.post(reverse("accounts:login"), {"email": personas.agent.email, "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"email": personas.agent.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another person on the same machine is not locked out by someone else's typos.
    other = client.post(
        reverse("accounts:login"), {"email": personas.requester.email, "password": PASSWORD}
    )
    assert other.status_code == 302


def test_next_is_followed_only_within_the_site(client: Client, personas: Personas) -> None:
    url = reverse("accounts:login")
    response = client.post(
        url + "?next=/portal/", {"email": personas.requester.email, "password": PASSWORD}
    )
    assert response["Location"] == "/portal/"
    client.logout()
    response = client.post(
        url + "?next=https://evil.example/",
        {"email": personas.requester.email, "password": PASSWORD},
    )
    assert response["Location"] == reverse("home")


def test_sign_out_needs_post(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("tickets:console_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("accounts:login"))


def test_password_reset_sends_link_that_sets_a_new_password(
    client: Client, personas: Personas
) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": personas.agent.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/password-reset/" in line).strip()
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    new = "a brand new sentence password"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    personas.agent.refresh_from_db()
    assert personas.agent.check_password(new)


def test_password_reset_for_unknown_address_looks_the_same(client: Client) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []
