from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from deskside.accounts import services
from deskside.accounts.models import EmailAddress, PhoneNumber, Role
from deskside.lib.phones import format_phone, normalise_phone
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


@override_settings(DEFAULT_PHONE_REGION="GB")
def test_person_is_created_with_normalised_contact_details() -> None:
    person = services.person_create(
        email="  Sam.Jones@Example.COM ",
        full_name="Sam Jones",
        phones=[("020 7946 0123", "work"), ("+1 (415) 555-0134", "mobile")],
        other_emails=["sam@home.example"],
    )
    assert person.email == "sam.jones@example.com"
    assert set(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == {
        "sam.jones@example.com",
        "sam@home.example",
    }
    numbers = set(PhoneNumber.objects.filter(user=person).values_list("number", flat=True))
    assert numbers == {"+442079460123", "+14155550134"}
    assert person.role == Role.REQUESTER
    assert not person.has_usable_password()


def test_same_address_cannot_belong_to_two_people(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="already belongs"):
        services.person_create(email="ADA@example.com", full_name="Impostor")
    with pytest.raises(ValidationError, match="already belongs"):
        services.person_add_email(user=personas.other_requester, email="ada@example.com")


def test_bad_phone_number_is_explained() -> None:
    with pytest.raises(ValidationError, match="does not look like a phone number"):
        normalise_phone("call me maybe")
    with pytest.raises(ValidationError, match="wrong number of digits"):
        normalise_phone("+44 12")


def test_failed_create_leaves_nothing_behind() -> None:
    with pytest.raises(ValidationError):
        services.person_create(
            email="half@example.com", full_name="Half Made", phones=[("nonsense", "work")]
        )
    assert not EmailAddress.objects.filter(email="half@example.com").exists()


def test_phone_formats_for_people() -> None:
    assert format_phone("+442079460123") == "+44 20 7946 0123"


def test_only_desk_staff_join_teams(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="is a requester"):
        services.team_add_member(team=personas.team, user=personas.requester)


def test_greeting_name(personas: Personas) -> None:
    assert personas.requester.first_name == "Ada"
    personas.requester.preferred_name = "Addy"
    assert personas.requester.first_name == "Addy"
