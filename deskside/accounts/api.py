"""API endpoints for the caller, people and teams. Reads go through accounts.selectors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from deskside.accounts import selectors, services
from deskside.accounts.models import (
    Department,
    Location,
    PhoneKind,
    PhoneNumber,
    Role,
    Team,
    TeamTier,
    TechnicalComfort,
    User,
)
from deskside.api.auth import caller
from deskside.api.pagination import paginated
from deskside.api.schemas import ObjectId, Ref

router = Router()


class PhoneOut(Schema):
    number: str = Field(description="In international E.164 form, such as +442079460001.")
    extension: str
    kind: PhoneKind


class PersonOut(Schema):
    """A person. Deliberately has no password or sign-in details."""

    id: int
    email: str = Field(description="The primary address, which is also the sign-in name.")
    full_name: str
    preferred_name: str
    role: Role
    job_title: str
    department: Ref | None
    location: Ref | None
    is_vip: bool
    technical_comfort: TechnicalComfort
    is_active: bool
    other_emails: list[str]
    phones: list[PhoneOut]
    teams: list[Ref] = Field(description="Empty for requesters, who are not shown teams.")

    @staticmethod
    def resolve_other_emails(obj: User) -> list[str]:
        return [address.email for address in obj.email_addresses.all() if not address.is_primary]

    @staticmethod
    def resolve_phones(obj: User) -> list[PhoneNumber]:
        return list(obj.phone_numbers.all())

    @staticmethod
    def resolve_teams(obj: User) -> list[Team]:
        return list(obj.teams.all())


class PersonRef(Schema):
    id: int
    full_name: str


class TeamOut(Schema):
    id: int
    name: str
    tier: TeamTier
    description: str
    lead: PersonRef | None
    member_count: int


class TeamDetailOut(TeamOut):
    members: list[PersonRef]

    @staticmethod
    def resolve_members(obj: Team) -> list[User]:
        return list(obj.members.all())


class PeopleFilter(Schema):
    search: str | None = Field(
        None,
        max_length=200,
        description="Part of a name, an email address, or a phone number (any format).",
    )
    role: Role | None = Field(None, description="Only people with this role.")


@router.get("/me", response=PersonOut, operation_id="me", summary="Who am I", tags=["people"])
def me(request: HttpRequest) -> User:
    """The person making the request."""
    user = caller(request)
    return selectors.person_get(user=user, person_id=user.pk)


@router.get(
    "/people",
    response=list[PersonOut],
    operation_id="people_list",
    summary="List people",
    tags=["people"],
)
@paginated
def people_list(request: HttpRequest, filters: Query[PeopleFilter]) -> QuerySet[User]:
    """People the caller may see: desk staff see everyone, a requester only themselves."""
    return selectors.person_list(user=caller(request), search=filters.search, role=filters.role)


@router.get(
    "/people/{person_id}",
    response=PersonOut,
    operation_id="people_get",
    summary="Get a person",
    tags=["people"],
)
def people_get(request: HttpRequest, person_id: ObjectId) -> User:
    """One person. Anyone the caller may not see is reported as not found."""
    return selectors.person_get(user=caller(request), person_id=person_id)


@router.get(
    "/teams",
    response=list[TeamOut],
    operation_id="teams_list",
    summary="List teams",
    tags=["teams"],
)
@paginated
def teams_list(request: HttpRequest) -> QuerySet[Team]:
    """Teams, for desk staff handing tickets on. Requesters get an empty list."""
    return selectors.team_list(user=caller(request))


@router.get(
    "/teams/{team_id}",
    response=TeamDetailOut,
    operation_id="teams_get",
    summary="Get a team",
    tags=["teams"],
)
def teams_get(request: HttpRequest, team_id: ObjectId) -> Team:
    """One team with its members."""
    return selectors.team_get(user=caller(request), team_id=team_id)


# --- Creating people and teams ------------------------------------------------------------


class PhoneIn(Schema):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=40, description="In any common format; stored in E.164.")
    kind: PhoneKind = PhoneKind.WORK


class PersonCreateIn(Schema):
    """A new person. They sign in by emailed link (requesters) or once given a password."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    full_name: str = Field(max_length=200)
    role: Role = Field(
        Role.REQUESTER, description="Desk staff may add requesters; only admins add others."
    )
    job_title: str = Field("", max_length=150)
    department_id: int | None = None
    location_id: int | None = None
    is_vip: bool = False
    technical_comfort: TechnicalComfort = TechnicalComfort.STANDARD
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    other_emails: list[str] = Field(default_factory=list, max_length=10)


class TeamCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=150)
    tier: TeamTier = TeamTier.SERVICE_DESK
    description: str = ""
    lead_id: int | None = None
    member_ids: list[int] = Field(default_factory=list, max_length=500)


def _not_found(field: str) -> ValidationError:
    # The same words whether the object does not exist or is hidden, so IDs cannot be probed.
    message = _("Nothing with this ID exists that you can see. Check the ID.")
    return ValidationError({field: message})


@router.post(
    "/people",
    response={201: PersonOut},
    operation_id="people_create",
    summary="Create a person",
    tags=["people"],
)
def people_create(request: HttpRequest, payload: PersonCreateIn) -> User:
    """Add a person. Desk staff may add requesters (as when logging a call from someone
    new); only administrators may add desk staff, who get more access."""
    user = caller(request)
    if not user.uses_console or (payload.role != Role.REQUESTER and not user.is_admin):
        raise PermissionDenied
    for field, address in [("email", payload.email)] + [
        (f"other_emails.{index}", other) for index, other in enumerate(payload.other_emails)
    ]:
        try:
            validate_email(address.strip())
        except ValidationError:
            raise ValidationError(
                {field: _("%(address)s is not an email address.") % {"address": address}}
            ) from None
    department = None
    if payload.department_id is not None:
        department = Department.objects.filter(pk=payload.department_id).first()
        if department is None:
            raise _not_found("department_id")
    location = None
    if payload.location_id is not None:
        location = Location.objects.filter(pk=payload.location_id).first()
        if location is None:
            raise _not_found("location_id")
    person = services.person_create(
        email=payload.email,
        full_name=payload.full_name,
        role=payload.role,
        department=department,
        location=location,
        job_title=payload.job_title,
        is_vip=payload.is_vip,
        technical_comfort=payload.technical_comfort,
        phones=[(phone.number, phone.kind) for phone in payload.phones],
        other_emails=payload.other_emails,
    )
    return selectors.person_get(user=user, person_id=person.pk)


@router.post(
    "/teams",
    response={201: TeamDetailOut},
    operation_id="teams_create",
    summary="Create a team",
    tags=["teams"],
)
def teams_create(request: HttpRequest, payload: TeamCreateIn) -> Team:
    """Add a team (administrators only). Members and the lead must be desk staff."""
    user = caller(request)
    if not user.is_admin:
        raise PermissionDenied
    name = payload.name.strip()
    if not name:
        raise ValidationError({"name": _("Give the team a name.")})
    # Checked here so a clash is a clear 400, not a database error.
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A team with this name already exists.")})
    people = {
        person.pk: person
        for person in selectors.person_list(user=user).filter(
            pk__in=[*payload.member_ids, *([payload.lead_id] if payload.lead_id else [])]
        )
    }
    if payload.lead_id is not None and payload.lead_id not in people:
        raise _not_found("lead_id")
    missing = [pk for pk in payload.member_ids if pk not in people]
    if missing:
        raise _not_found("member_ids")
    team = services.team_create(
        name=name,
        tier=payload.tier,
        lead=people[payload.lead_id] if payload.lead_id is not None else None,
        members=[people[pk] for pk in dict.fromkeys(payload.member_ids)],
        description=payload.description,
    )
    return selectors.team_get(user=user, team_id=team.pk)
