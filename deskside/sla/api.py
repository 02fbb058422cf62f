"""SLA configuration over the API: business calendars and SLA policies (administrators only).

Reads go through :mod:`deskside.sla.selectors`; writes through the shared checks and writes
in :mod:`deskside.sla.forms`, which also serve the Django admin, so both refuse the same
mistakes with the same words and both move open tickets' deadlines after a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from deskside.accounts.models import Department, Team, User
from deskside.api.auth import caller
from deskside.api.errors import ApiError
from deskside.api.pagination import paginated
from deskside.api.schemas import ObjectId, Ref
from deskside.sla import selectors
from deskside.sla.forms import (
    ExceptionRow,
    PeriodRow,
    calendar_delete,
    calendar_save,
    policy_delete,
    policy_save,
)
from deskside.sla.models import BusinessCalendar, HolidaySource, SlaPolicy
from deskside.tickets.models import Category

router = Router(tags=["sla"])

M = TypeVar("M", bound=Model)


def _admin(request: HttpRequest) -> User:
    user = caller(request)
    if not selectors.may_configure_sla(user):
        raise ApiError(
            403,
            "forbidden",
            _("Only administrators can see and change SLA calendars and policies."),
        )
    return user


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Calendars ----------------------------------------------------------------------------


class PeriodIO(_Strict):
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday.")
    start_time: time = Field(description="Local time, such as 09:00.")
    end_time: time = Field(description="Local time; 00:00 means midnight at the end of the day.")


class HolidayIn(_Strict):
    date: date
    name: str = Field(max_length=120)


class HolidayOut(Schema):
    date: date
    name: str
    source: HolidaySource


class ExceptionIO(_Strict):
    date: date
    name: str = Field("", max_length=120)
    start_time: time | None = Field(None, description="Leave out both times to close the day.")
    end_time: time | None = None


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str = Field(description="An IANA time zone name, such as Europe/London.")
    always_open: bool
    holiday_country: str
    holiday_subdivision: str
    periods: list[PeriodIO]
    holidays: list[HolidayOut]
    exceptions: list[ExceptionIO]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_periods(obj: BusinessCalendar) -> list[Any]:
        return list(obj.periods.all())

    @staticmethod
    def resolve_holidays(obj: BusinessCalendar) -> list[Any]:
        return list(obj.holidays.all())

    @staticmethod
    def resolve_exceptions(obj: BusinessCalendar) -> list[Any]:
        return list(obj.exceptions.all())


class CalendarIn(_Strict):
    name: str = Field(max_length=100)
    timezone: str = Field("UTC", max_length=64)
    always_open: bool = False
    holiday_country: str = Field("", max_length=2)
    holiday_subdivision: str = Field("", max_length=10)
    periods: list[PeriodIO] = Field(default_factory=list, max_length=200)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=2000)
    exceptions: list[ExceptionIO] = Field(default_factory=list, max_length=2000)


class CalendarPatchIn(_Strict):
    """Only the fields sent change; a list sent replaces the calendar's list."""

    name: str | None = Field(None, max_length=100)
    timezone: str | None = Field(None, max_length=64)
    always_open: bool | None = None
    holiday_country: str | None = Field(None, max_length=2)
    holiday_subdivision: str | None = Field(None, max_length=10)
    periods: list[PeriodIO] | None = Field(None, max_length=200)
    holidays: list[HolidayIn] | None = Field(None, max_length=2000)
    exceptions: list[ExceptionIO] | None = Field(None, max_length=2000)


CALENDAR_FIELDS = ("name", "timezone", "always_open", "holiday_country", "holiday_subdivision")


def _cannot_be_empty(name: str) -> ValidationError:
    return ValidationError({name: _("This cannot be empty. Leave it out instead.")})


def _calendar_write(
    user: User, calendar: BusinessCalendar | None, payload: CalendarIn | CalendarPatchIn
) -> BusinessCalendar:
    sent = payload.model_fields_set if calendar is not None else set(CalendarIn.model_fields)
    fields = {name: getattr(payload, name) for name in CALENDAR_FIELDS if name in sent}
    for name, value in fields.items():
        if value is None:
            raise _cannot_be_empty(name)
    periods = payload.periods if "periods" in sent else None
    holidays = payload.holidays if "holidays" in sent else None
    exceptions = payload.exceptions if "exceptions" in sent else None
    saved = calendar_save(
        calendar=calendar,
        fields=fields,
        periods=(
            None
            if periods is None
            else [PeriodRow(p.weekday, p.start_time, p.end_time) for p in periods]
        ),
        holidays=None if holidays is None else [(h.date, h.name) for h in holidays],
        exceptions=(
            None
            if exceptions is None
            else [ExceptionRow(e.date, e.name, e.start_time, e.end_time) for e in exceptions]
        ),
    )
    return selectors.calendar_get(user, saved.pk)


@router.get(
    "/sla/calendars",
    response=list[CalendarOut],
    operation_id="sla_calendars_list",
    summary="List business calendars",
)
@paginated
def calendars_list(request: HttpRequest) -> QuerySet[BusinessCalendar]:
    """Business calendars with their working hours, holidays and exceptions."""
    return selectors.calendar_list(_admin(request))


@router.get(
    "/sla/calendars/{calendar_id}",
    response=CalendarOut,
    operation_id="sla_calendars_get",
    summary="Get a business calendar",
)
def calendars_get(request: HttpRequest, calendar_id: ObjectId) -> BusinessCalendar:
    return selectors.calendar_get(_admin(request), calendar_id)


@router.post(
    "/sla/calendars",
    response={201: CalendarOut},
    operation_id="sla_calendars_create",
    summary="Create a business calendar",
)
def calendars_create(request: HttpRequest, payload: CalendarIn) -> BusinessCalendar:
    """Overlapping hours, an end before its start or an unknown time zone are refused,
    naming the field (such as ``periods`` or ``periods.1.end_time``)."""
    return _calendar_write(_admin(request), None, payload)


@router.patch(
    "/sla/calendars/{calendar_id}",
    response=CalendarOut,
    operation_id="sla_calendars_update",
    summary="Change a business calendar",
)
def calendars_update(
    request: HttpRequest, calendar_id: ObjectId, payload: CalendarPatchIn
) -> BusinessCalendar:
    """Only the fields sent change. Open tickets' deadlines are recomputed shortly after."""
    user = _admin(request)
    return _calendar_write(user, selectors.calendar_get(user, calendar_id), payload)


@router.delete(
    "/sla/calendars/{calendar_id}",
    response={204: None},
    operation_id="sla_calendars_delete",
    summary="Delete a business calendar",
)
def calendars_delete(request: HttpRequest, calendar_id: ObjectId) -> None:
    """Refused while a policy uses the calendar."""
    user = _admin(request)
    calendar_delete(calendar=selectors.calendar_get(user, calendar_id))


# --- Policies -----------------------------------------------------------------------------


class PolicyOut(Schema):
    id: int
    name: str
    is_active: bool
    position: int = Field(description="Policies are tried lowest first; the first match wins.")
    calendar: Ref
    priorities: list[int] = Field(description="Empty: any priority.")
    category_ids: list[int] = Field(description="Empty: any category.")
    team_ids: list[int] = Field(description="Empty: any team.")
    department_ids: list[int] = Field(description="Empty: any department.")
    vip_only: bool
    first_response_minutes: int = Field(description="In business minutes.")
    next_update_minutes: int | None = Field(description="Null: no next-update promise.")
    resolution_minutes: int
    pause_when_waiting_on_requester: bool
    pause_when_waiting_on_third_party: bool
    warning_percentages: list[int] = Field(description="Warnings before the breach at 100.")

    @staticmethod
    def resolve_category_ids(obj: SlaPolicy) -> list[int]:
        return sorted(item.pk for item in obj.categories.all())

    @staticmethod
    def resolve_team_ids(obj: SlaPolicy) -> list[int]:
        return sorted(item.pk for item in obj.teams.all())

    @staticmethod
    def resolve_department_ids(obj: SlaPolicy) -> list[int]:
        return sorted(item.pk for item in obj.departments.all())

    @staticmethod
    def resolve_warning_percentages(obj: SlaPolicy) -> list[int]:
        return obj.warnings


class PolicyIn(_Strict):
    name: str = Field(max_length=100)
    calendar_id: int
    is_active: bool = True
    position: int = Field(0, ge=0, le=32767)
    priorities: list[int] = Field(default_factory=list, max_length=4)
    category_ids: list[int] = Field(default_factory=list, max_length=500)
    team_ids: list[int] = Field(default_factory=list, max_length=500)
    department_ids: list[int] = Field(default_factory=list, max_length=500)
    vip_only: bool = False
    first_response_minutes: int = Field(description="At least 1.")
    next_update_minutes: int | None = None
    resolution_minutes: int = Field(description="At least 1.")
    pause_when_waiting_on_requester: bool = True
    pause_when_waiting_on_third_party: bool = False
    warning_percentages: list[int] = Field(default_factory=lambda: [75, 90], max_length=10)


class PolicyPatchIn(_Strict):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=100)
    calendar_id: int | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=32767)
    priorities: list[int] | None = Field(None, max_length=4)
    category_ids: list[int] | None = Field(None, max_length=500)
    team_ids: list[int] | None = Field(None, max_length=500)
    department_ids: list[int] | None = Field(None, max_length=500)
    vip_only: bool | None = None
    first_response_minutes: int | None = None
    next_update_minutes: int | None = None
    resolution_minutes: int | None = None
    pause_when_waiting_on_requester: bool | None = None
    pause_when_waiting_on_third_party: bool | None = None
    warning_percentages: list[int] | None = Field(None, max_length=10)


# Fields that may be null; every other one sent as null is refused.
NULLABLE_POLICY_FIELDS = {"next_update_minutes"}
RELATIONS: dict[str, tuple[str, type[Model]]] = {
    "category_ids": ("categories", Category),
    "team_ids": ("teams", Team),
    "department_ids": ("departments", Department),
}
# Minutes are stored in an unsigned column; bound them before the database does.
MAX_MINUTES = 2**31 - 1


def _objects(field: str, model: type[M], ids: Iterable[int]) -> list[M]:
    wanted = set(ids)
    found = list(model._default_manager.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({field: _("Nothing with one of these IDs exists. Check the IDs.")})
    return found


def _policy_write(
    user: User, policy: SlaPolicy | None, payload: PolicyIn | PolicyPatchIn
) -> SlaPolicy:
    sent = payload.model_fields_set if policy is not None else set(PolicyIn.model_fields)
    for name in sent:
        if getattr(payload, name) is None and name not in NULLABLE_POLICY_FIELDS:
            raise _cannot_be_empty(name)
    fields: dict[str, Any] = {}
    relations: dict[str, list[Any]] = {}
    for name in sent:
        value = getattr(payload, name)
        if name in RELATIONS:
            relation, model = RELATIONS[name]
            relations[relation] = _objects(name, model, value)
        elif name == "calendar_id":
            calendar = selectors.calendar_list(user).filter(pk=value).first()
            if calendar is None:
                raise ValidationError({name: _("There is no calendar with this ID.")})
            fields["calendar"] = calendar
        elif name == "warning_percentages":
            fields[name] = ", ".join(str(item) for item in value)
        elif name.endswith("_minutes") and value is not None and value > MAX_MINUTES:
            raise ValidationError({name: _("This target is too long; use fewer minutes.")})
        else:
            fields[name] = value
    saved = policy_save(policy=policy, fields=fields, relations=relations)
    return selectors.policy_get(user, saved.pk)


@router.get(
    "/sla/policies",
    response=list[PolicyOut],
    operation_id="sla_policies_list",
    summary="List SLA policies",
)
@paginated
def policies_list(request: HttpRequest) -> QuerySet[SlaPolicy]:
    """SLA policies in the order they are tried."""
    return selectors.policy_list(_admin(request))


@router.get(
    "/sla/policies/{policy_id}",
    response=PolicyOut,
    operation_id="sla_policies_get",
    summary="Get an SLA policy",
)
def policies_get(request: HttpRequest, policy_id: ObjectId) -> SlaPolicy:
    return selectors.policy_get(_admin(request), policy_id)


@router.post(
    "/sla/policies",
    response={201: PolicyOut},
    operation_id="sla_policies_create",
    summary="Create an SLA policy",
)
def policies_create(request: HttpRequest, payload: PolicyIn) -> SlaPolicy:
    """Targets are business minutes of at least 1. Open tickets are re-matched shortly after."""
    return _policy_write(_admin(request), None, payload)


@router.patch(
    "/sla/policies/{policy_id}",
    response=PolicyOut,
    operation_id="sla_policies_update",
    summary="Change an SLA policy",
)
def policies_update(request: HttpRequest, policy_id: ObjectId, payload: PolicyPatchIn) -> SlaPolicy:
    """Only the fields sent change. Open tickets are re-matched shortly after."""
    user = _admin(request)
    return _policy_write(user, selectors.policy_get(user, policy_id), payload)


@router.delete(
    "/sla/policies/{policy_id}",
    response={204: None},
    operation_id="sla_policies_delete",
    summary="Delete an SLA policy",
)
def policies_delete(request: HttpRequest, policy_id: ObjectId) -> None:
    """Its open tickets move to the next policy that matches them, if any."""
    user = _admin(request)
    policy_delete(policy=selectors.policy_get(user, policy_id))
