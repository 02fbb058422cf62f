"""SLA configuration over the API: business calendars, SLA policies and the escalation ladder
(administrators only).

Reads go through :mod:`deskside.sla.selectors`; writes through the shared checks and writes
in :mod:`deskside.sla.forms`, which also serve the Django admin, so both refuse the same
mistakes with the same words and both move open tickets' deadlines after a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from deskside.accounts import permissions
from deskside.accounts.models import Department, Team, User
from deskside.api.auth import caller
from deskside.api.errors import ApiError
from deskside.api.pagination import paginated
from deskside.api.schemas import ObjectId, Ref
from deskside.sla import selectors
from deskside.sla.forms import (
    MAX_MINUTES,
    ExceptionRow,
    PeriodRow,
    calendar_delete,
    calendar_save,
    escalation_rule_delete,
    escalation_rule_save,
    policy_delete,
    policy_save,
)
from deskside.sla.models import (
    BusinessCalendar,
    EscalationRule,
    EscalationStep,
    HolidaySource,
    SlaPolicy,
)
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


# --- Escalation ladder --------------------------------------------------------------------


class StepOut(Schema):
    id: int
    position: int = Field(description="Steps are taken in this order, 1 first.")
    after_minutes: int | None = Field(description="An age in business minutes; null on breach.")
    on_breach: bool = Field(description="Fires when any SLA target of the ticket is missed.")
    notify_roles: list[str] = Field(
        description="Any of team_lead, it_managers, executives, admins."
    )
    notify_person_id: int | None
    notify_department_head: bool
    webhook_url: str = Field(description="A Slack or Teams incoming webhook; empty: none.")
    raise_priority_to: int | None
    reassign_team_id: int | None
    reason: str = Field(description="Shown to the people told; empty: Deskside writes one.")


class RuleOut(Schema):
    id: int
    name: str
    is_active: bool
    position: int = Field(description="Rules are tried lowest first; the first match wins.")
    priorities: list[int] = Field(description="Empty: any priority.")
    category_ids: list[int] = Field(description="Empty: any category.")
    vip_only: bool
    steps: list[StepOut]
    created_at: datetime

    @staticmethod
    def resolve_category_ids(obj: EscalationRule) -> list[int]:
        return sorted(item.pk for item in obj.categories.all())

    @staticmethod
    def resolve_steps(obj: EscalationRule) -> list[Any]:
        return list(obj.steps.all())


class StepIn(_Strict):
    after_minutes: int | None = Field(None, description="At least 1, unless on_breach.")
    on_breach: bool = False
    notify_roles: list[str] = Field(default_factory=list, max_length=10)
    notify_person_id: int | None = None
    notify_department_head: bool = False
    webhook_url: str = Field("", max_length=500)
    raise_priority_to: int | None = Field(None, description="1 to 4.")
    reassign_team_id: int | None = None
    reason: str = Field("", max_length=200)


class RuleIn(_Strict):
    name: str = Field(max_length=100)
    is_active: bool = True
    position: int = Field(0, ge=0, le=32767)
    priorities: list[int] = Field(default_factory=list, max_length=4)
    category_ids: list[int] = Field(default_factory=list, max_length=500)
    vip_only: bool = False
    steps: list[StepIn] = Field(
        default_factory=list, max_length=50, description="In order: the first is taken first."
    )


class RulePatchIn(_Strict):
    """Only the fields sent change; ``steps`` sent replaces all the rule's steps."""

    name: str | None = Field(None, max_length=100)
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=32767)
    priorities: list[int] | None = Field(None, max_length=4)
    category_ids: list[int] | None = Field(None, max_length=500)
    vip_only: bool | None = None
    steps: list[StepIn] | None = Field(None, max_length=50)


RULE_FIELDS = ("name", "is_active", "position", "priorities", "vip_only")


def _rules(user: User) -> QuerySet[EscalationRule]:
    return (
        permissions.visible(user, EscalationRule)
        .prefetch_related(
            "categories", Prefetch("steps", EscalationStep.objects.order_by("position", "pk"))
        )
        .order_by("position", "name", "pk")
    )


def _rule_get(user: User, pk: int) -> EscalationRule:
    return permissions.get_visible_or_404(user, _rules(user), pk=pk)


def _step_values(steps: list[StepIn]) -> list[dict[str, Any]]:
    """Each step's model field values, with the people and teams it names looked up."""
    people = User.objects.in_bulk({s.notify_person_id for s in steps if s.notify_person_id})
    teams = Team.objects.in_bulk({s.reassign_team_id for s in steps if s.reassign_team_id})
    errors: dict[str, str] = {}
    rows = []
    for index, step in enumerate(steps):
        values = step.model_dump(exclude={"notify_person_id", "reassign_team_id"})
        if step.notify_person_id is not None:
            values["notify_person"] = people.get(step.notify_person_id)
            if values["notify_person"] is None or not values["notify_person"].is_active:
                errors[f"steps.{index}.notify_person_id"] = _("There is no person with this ID.")
        if step.reassign_team_id is not None:
            values["reassign_team"] = teams.get(step.reassign_team_id)
            if values["reassign_team"] is None:
                errors[f"steps.{index}.reassign_team_id"] = _("There is no team with this ID.")
        rows.append(values)
    if errors:
        raise ValidationError(errors)
    return rows


def _rule_write(
    user: User, rule: EscalationRule | None, payload: RuleIn | RulePatchIn
) -> EscalationRule:
    sent = payload.model_fields_set if rule is not None else set(RuleIn.model_fields)
    for name in sent:
        if getattr(payload, name) is None:
            raise _cannot_be_empty(name)
    fields = {name: getattr(payload, name) for name in RULE_FIELDS if name in sent}
    categories = (
        _objects("category_ids", Category, payload.category_ids or [])
        if "category_ids" in sent
        else None
    )
    steps = _step_values(payload.steps or []) if "steps" in sent else None
    saved = escalation_rule_save(rule=rule, fields=fields, categories=categories, steps=steps)
    return _rule_get(user, saved.pk)


@router.get(
    "/sla/escalation-rules",
    response=list[RuleOut],
    operation_id="sla_escalation_rules_list",
    summary="List escalation rules",
)
@paginated
def escalation_rules_list(request: HttpRequest) -> QuerySet[EscalationRule]:
    """Escalation rules in the order they are tried, each with its steps in order."""
    return _rules(_admin(request))


@router.get(
    "/sla/escalation-rules/{rule_id}",
    response=RuleOut,
    operation_id="sla_escalation_rules_get",
    summary="Get an escalation rule",
)
def escalation_rules_get(request: HttpRequest, rule_id: ObjectId) -> EscalationRule:
    return _rule_get(_admin(request), rule_id)


@router.post(
    "/sla/escalation-rules",
    response={201: RuleOut},
    operation_id="sla_escalation_rules_create",
    summary="Create an escalation rule",
)
def escalation_rules_create(request: HttpRequest, payload: RuleIn) -> EscalationRule:
    """The rule and its steps are saved together or not at all. A mistake names its field,
    such as ``steps.0.notify_roles`` for a step that tells nobody."""
    return _rule_write(_admin(request), None, payload)


@router.patch(
    "/sla/escalation-rules/{rule_id}",
    response=RuleOut,
    operation_id="sla_escalation_rules_update",
    summary="Change an escalation rule",
)
def escalation_rules_update(
    request: HttpRequest, rule_id: ObjectId, payload: RulePatchIn
) -> EscalationRule:
    """Only the fields sent change; ``steps`` sent replaces all the rule's steps."""
    user = _admin(request)
    return _rule_write(user, _rule_get(user, rule_id), payload)


@router.delete(
    "/sla/escalation-rules/{rule_id}",
    response={204: None},
    operation_id="sla_escalation_rules_delete",
    summary="Delete an escalation rule",
)
def escalation_rules_delete(request: HttpRequest, rule_id: ObjectId) -> None:
    """Deletes its steps too; tickets on its ladder leave it."""
    escalation_rule_delete(rule=_rule_get(_admin(request), rule_id))
