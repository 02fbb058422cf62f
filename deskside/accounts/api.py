"""API endpoints for the caller, people and teams. Reads go through accounts.selectors."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from deskside.accounts import selectors
from deskside.accounts.models import (
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
