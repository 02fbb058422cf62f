from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.accounts import services
from deskside.accounts.models import Role, SetupToken, User

pytestmark = pytest.mark.django_db

GOOD = {
    "full_name": "Grace Admin",
    "email": "Grace@Example.com",
    "password": "our desk opens at nine",
    "password_again": "our desk opens at nine",
}


def test_first_admin_is_created_once(client: Client) -> None:
    token = services.setup_token_create()
    url = reverse("setup", args=[token])
    assert client.get(url).status_code == 200
    response = client.post(url, GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:console_home")
    admin = User.objects.get(email="grace@example.com")
    assert admin.role == Role.ADMIN
    assert admin.check_password(GOOD["password"])
    assert client.session["_auth_user_id"] == str(admin.pk)
    # The link is gone, and so are all other setup links.
    assert SetupToken.objects.count() == 0
    assert client.get(url).status_code == 404


def test_unknown_or_old_link_is_not_found(client: Client) -> None:
    assert client.get(reverse("setup", args=["made-up"])).status_code == 404


def test_link_is_dead_once_an_admin_exists(client: Client) -> None:
    token = services.setup_token_create()
    services.person_create(
        email="other@example.com", full_name="Other Admin", role=Role.ADMIN, password=None
    )
    assert client.get(reverse("setup", args=[token])).status_code == 404


def test_mismatched_and_weak_passwords_are_explained(client: Client) -> None:
    token = services.setup_token_create()
    url = reverse("setup", args=[token])
    response = client.post(url, {**GOOD, "password_again": "something else entirely"})
    assert "The two passwords are different" in response.content.decode()
    response = client.post(url, {**GOOD, "password": "12345", "password_again": "12345"})
    assert response.status_code == 200
    assert not User.objects.exists()
    assert "too short" in response.content.decode()


def test_a_new_link_replaces_the_old(client: Client) -> None:
    old = services.setup_token_create()
    new = services.setup_token_create()
    assert client.get(reverse("setup", args=[old])).status_code == 404
    assert client.get(reverse("setup", args=[new])).status_code == 200
