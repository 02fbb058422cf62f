"""Reads of people and teams, always narrowed by the permission gate.

Everything a user can reach through the UI or the API comes through here, so the gate in
``deskside.accounts.permissions`` is applied once and in one place.
"""

from __future__ import annotations

import re

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from deskside.accounts.models import EmailAddress, PhoneNumber, Team, User
from deskside.accounts.permissions import Person, get_visible_or_404, visible

# Fewer digits than this match far too many numbers to be a useful phone search.
MIN_PHONE_SEARCH_DIGITS = 4
_LOOKS_LIKE_PHONE = re.compile(r"[\d\s+().\-/]+")


def _people(user: Person) -> QuerySet[User]:
    # A person's teams are shown only where the caller may see teams (requesters may not).
    # Their department and location need no check of their own: requesters see only
    # themselves, and so only their own department and location, as the gate allows.
    return (
        visible(user, User)
        .select_related("department", "location")
        .prefetch_related(
            "phone_numbers",
            "email_addresses",
            Prefetch("teams", queryset=visible(user, Team).order_by("name", "pk")),
        )
        .order_by(Lower("full_name"), "pk")
    )


def _search(text: str) -> Q:
    query = (
        Q(full_name__icontains=text)
        | Q(preferred_name__icontains=text)
        | Q(email__icontains=text)
        | Q(Exists(EmailAddress.objects.filter(user=OuterRef("pk"), email__icontains=text)))
    )
    digits = re.sub(r"\D", "", text)
    if _LOOKS_LIKE_PHONE.fullmatch(text) and len(digits) >= MIN_PHONE_SEARCH_DIGITS:
        # Numbers are stored as +<country><number>. Dropping the leading zeros lets a
        # number typed the national way ("020 7946 0001") find "+442079460001".
        for fragment in {digits, digits.lstrip("0")}:
            if len(fragment) >= MIN_PHONE_SEARCH_DIGITS:
                query |= Q(
                    Exists(
                        PhoneNumber.objects.filter(user=OuterRef("pk"), number__contains=fragment)
                    )
                )
    return query


def person_list(
    *, user: Person, search: str | None = None, role: str | None = None
) -> QuerySet[User]:
    """The people ``user`` may see, optionally matching a name, address or phone number."""
    people = _people(user)
    text = (search or "").strip()
    if text:
        people = people.filter(_search(text))
    if role:
        people = people.filter(role=role)
    return people


def person_get(*, user: Person, person_id: int) -> User:
    """One person ``user`` may see; anyone else is "not found" (Http404)."""
    return get_visible_or_404(user, _people(user), pk=person_id)


def _teams(user: Person) -> QuerySet[Team]:
    return (
        visible(user, Team)
        .select_related("lead")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name", "pk")
    )


def team_list(*, user: Person) -> QuerySet[Team]:
    """The teams ``user`` may see, each with ``member_count``."""
    return _teams(user)


def team_get(*, user: Person, team_id: int) -> Team:
    """One team ``user`` may see, with its members (those ``user`` may see) prefetched."""
    members = visible(user, User).order_by(Lower("full_name"), "pk")
    return get_visible_or_404(
        user, _teams(user).prefetch_related(Prefetch("members", queryset=members)), pk=team_id
    )
