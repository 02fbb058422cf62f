"""Editing calendars and policies: the checks and writes the admin and the API share.

A calendar is only as good as the schedule it assembles, so both the admin's inline forms
and the API run :func:`deskside.sla.businesstime.validate_schedule` on the assembled
schedule and report its :class:`ScheduleError` against the part at fault (working hours or
exceptions). Every save queues a recomputation of open tickets' deadlines after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deskside.sla.businesstime import Schedule, ScheduleError, WorkingHours, validate_schedule
from deskside.sla.models import (
    BusinessCalendar,
    CalendarException,
    EscalationRule,
    EscalationStep,
    Holiday,
    SlaPolicy,
    WorkingPeriod,
)
from deskside.sla.models.core import _minute
from deskside.sla.tasks import sla_queue_recompute

__all__ = [
    "ExceptionFormSet",
    "ExceptionRow",
    "IcsUploadForm",
    "PeriodRow",
    "PublicHolidaysForm",
    "ScheduleFormSet",
    "calendar_delete",
    "calendar_holidays_add",
    "calendar_save",
    "escalation_rule_delete",
    "escalation_rule_save",
    "policy_delete",
    "policy_save",
    "schedule_errors",
]

TARGET_FIELDS = ("first_response_minutes", "next_update_minutes", "resolution_minutes")
# Minutes are stored in an unsigned column; bound them before the database does.
MAX_MINUTES = 2**31 - 1


@dataclass(frozen=True)
class PeriodRow:
    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True)
class ExceptionRow:
    date: date
    name: str = ""
    start_time: time | None = None
    end_time: time | None = None


# --- Checking a schedule --------------------------------------------------------------------


def _periods_schedule(zone: str, always_open: bool, rows: Iterable[PeriodRow]) -> Schedule:
    return Schedule(
        timezone=zone,
        always_open=always_open,
        periods=tuple(
            WorkingHours(row.weekday, _minute(row.start_time), _minute(row.end_time, end=True))
            for row in rows
        ),
    )


def _special_days(
    rows: Iterable[ExceptionRow],
) -> tuple[tuple[date, tuple[tuple[int, int], ...]], ...]:
    days: dict[date, list[tuple[int, int]]] = {}
    for row in rows:
        ranges = days.setdefault(row.date, [])
        if row.start_time is not None and row.end_time is not None:
            ranges.append((_minute(row.start_time), _minute(row.end_time, end=True)))
    return tuple((day, tuple(sorted(ranges))) for day, ranges in sorted(days.items()))


def schedule_errors(
    *,
    zone: str,
    always_open: bool,
    periods: Sequence[PeriodRow],
    exceptions: Sequence[ExceptionRow],
) -> dict[str, str]:
    """Run validate_schedule on the assembled schedule; ``{part: message}`` for what fails.

    The part is "periods" (working hours), "exceptions" or "timezone", so each form or API
    field can show the message next to what must change. The weekly hours and the
    exceptions are checked on their own first, so a mistake in one is not blamed on the other.
    """
    errors: dict[str, str] = {}
    try:
        # 24/7 while checking the weekly hours alone: an empty week is judged below.
        validate_schedule(_periods_schedule(zone, True, periods))
    except ScheduleError as exc:
        errors["timezone" if exc.field == "timezone" else "periods"] = exc.message
    if "timezone" in errors:
        return errors
    try:
        validate_schedule(
            Schedule(timezone=zone, always_open=True, special_days=_special_days(exceptions))
        )
    except ScheduleError as exc:
        errors["exceptions"] = exc.message
    if errors:
        return errors
    assembled = Schedule(
        timezone=zone,
        always_open=always_open,
        periods=_periods_schedule(zone, always_open, periods).periods,
        special_days=_special_days(exceptions),
    )
    try:
        validate_schedule(assembled)
    except ScheduleError as exc:
        errors["exceptions" if exc.field == "special_days" else "periods"] = exc.message
    return errors


def _row_errors(prefix: str, index: int, start: time | None, end: time | None) -> dict[str, str]:
    if start is None or end is None:
        return {}
    if _minute(end, end=True) <= _minute(start):
        return {
            f"{prefix}.{index}.end_time": gettext(
                "The end must be after the start (00:00 means midnight)."
            )
        }
    return {}


# --- Writing calendars ---------------------------------------------------------------------


def calendar_save(
    *,
    calendar: BusinessCalendar | None,
    fields: dict[str, Any],
    periods: Sequence[PeriodRow] | None = None,
    holidays: Sequence[tuple[date, str]] | None = None,
    exceptions: Sequence[ExceptionRow] | None = None,
) -> BusinessCalendar:
    """Create (``calendar`` None) or change a calendar; lists given replace the old ones.

    Raises ValidationError naming each field at fault, such as ``periods`` for overlapping
    hours or ``periods.1.end_time`` for an end before its start. Open tickets on the
    calendar are recomputed in the background once the change has committed.
    """
    target = calendar or BusinessCalendar()
    for name, value in fields.items():
        setattr(target, name, value)
    replace_periods, replace_exceptions = periods is not None, exceptions is not None
    if periods is None:
        periods = (
            [PeriodRow(p.weekday, p.start_time, p.end_time) for p in target.periods.all()]
            if target.pk
            else []
        )
    if exceptions is None:
        exceptions = (
            [
                ExceptionRow(e.date, e.name, e.start_time, e.end_time)
                for e in target.exceptions.all()
            ]
            if target.pk
            else []
        )
    errors: dict[str, Any] = {}
    try:
        target.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for index, period in enumerate(periods):
        errors.update(_row_errors("periods", index, period.start_time, period.end_time))
    for index, row in enumerate(exceptions):
        if (row.start_time is None) != (row.end_time is None):
            errors[f"exceptions.{index}.end_time"] = gettext(
                "Give both a start and an end, or neither to close the whole day."
            )
        errors.update(_row_errors("exceptions", index, row.start_time, row.end_time))
    if holidays is not None:
        seen: set[date] = set()
        for index, (day, _name) in enumerate(holidays):
            if day in seen:
                errors[f"holidays.{index}.date"] = gettext("This date is listed twice.")
            seen.add(day)
    if not errors:
        errors.update(
            schedule_errors(
                zone=target.timezone,
                always_open=target.always_open,
                periods=periods,
                exceptions=exceptions,
            )
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.updated_at = timezone.now()
        target.save()
        if replace_periods:
            target.periods.all().delete()
            WorkingPeriod.objects.bulk_create(
                WorkingPeriod(calendar=target, weekday=row.weekday, start_time=row.start_time,
                              end_time=row.end_time)
                for row in periods
            )  # fmt: skip
        if holidays is not None:
            target.holidays.all().delete()
            Holiday.objects.bulk_create(
                Holiday(calendar=target, date=day, name=name) for day, name in holidays
            )
        if replace_exceptions:
            target.exceptions.all().delete()
            CalendarException.objects.bulk_create(
                CalendarException(calendar=target, date=row.date, name=row.name,
                                  start_time=row.start_time, end_time=row.end_time)
                for row in exceptions
            )  # fmt: skip
        sla_queue_recompute(target.pk)
    return target


def calendar_delete(*, calendar: BusinessCalendar) -> None:
    """Delete a calendar no policy uses (a policy's calendar must be moved first)."""
    try:
        with transaction.atomic():
            calendar.delete()
    except ProtectedError:
        names = ", ".join(
            SlaPolicy.objects.filter(calendar=calendar)
            .order_by("name")
            .values_list("name", flat=True)
        )
        raise ValidationError(
            gettext(
                "SLA policies still use this calendar (%(names)s). Give them another calendar "
                "first."
            )
            % {"names": names},
            code="in_use",
        ) from None


def calendar_holidays_add(
    *, calendar: BusinessCalendar, holidays: Iterable[tuple[date, str]], source: str
) -> int:
    """Add holidays on dates the calendar does not close yet; returns how many were added."""
    with transaction.atomic():
        known = set(calendar.holidays.values_list("date", flat=True))
        new = [
            Holiday(calendar=calendar, date=day, name=name[:120], source=source)
            for day, name in holidays
            if day not in known
        ]
        Holiday.objects.bulk_create(new)
        if new:
            BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
            sla_queue_recompute(calendar.pk)
    return len(new)


# --- Writing policies ----------------------------------------------------------------------


def policy_save(
    *,
    policy: SlaPolicy | None,
    fields: dict[str, Any],
    relations: Mapping[str, Iterable[Any]] | None = None,
) -> SlaPolicy:
    """Create (``policy`` None) or change a policy; open tickets are then re-matched.

    ``relations`` maps "categories", "teams" or "departments" to the objects to set.
    A target of zero or fewer minutes is refused, naming the field.
    """
    target = policy or SlaPolicy()
    for name, value in fields.items():
        setattr(target, name, value)
    errors: dict[str, Any] = {}
    for name in TARGET_FIELDS:
        value = getattr(target, name)
        if value is not None and value <= 0:
            errors[name] = [gettext("A target must be at least one minute.")]
    if not errors:
        try:
            target.full_clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.save()
        for name, objects in (relations or {}).items():
            getattr(target, name).set(list(objects))
        # Which policy a ticket follows can change with any policy edit: re-match them all.
        sla_queue_recompute(None)
    return target


def policy_delete(*, policy: SlaPolicy) -> None:
    """Delete a policy; its open tickets move to the next policy that matches, if any."""
    with transaction.atomic():
        policy.delete()
        sla_queue_recompute(None)


# --- Writing escalation ladders ------------------------------------------------------------


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    # A field's validator and the model's clean() can both refuse the same value in the
    # same words (the webhook address); say it once.
    return {name: list(dict.fromkeys(found)) for name, found in exc.message_dict.items()}


def escalation_rule_save(
    *,
    rule: EscalationRule | None,
    fields: dict[str, Any],
    categories: Iterable[Any] | None = None,
    steps: Sequence[Mapping[str, Any]] | None = None,
) -> EscalationRule:
    """Create (``rule`` None) or change an escalation rule, all or nothing.

    ``steps`` given replaces the rule's steps: each mapping holds a step's field values,
    and the steps take positions 1, 2, … in the order given. A step kept at a position
    keeps its row (and the record of tickets it already fired for); steps beyond the new
    list are deleted. Raises ValidationError naming each field at fault, such as
    ``steps.0.notify_roles``.
    """
    target = rule or EscalationRule()
    for name, value in fields.items():
        setattr(target, name, value)
    errors: dict[str, Any] = {}
    try:
        target.full_clean(exclude=["created_at"])
    except ValidationError as exc:
        errors.update(_messages(exc))
    existing = {step.position: step for step in target.steps.all()} if target.pk else {}
    kept: list[EscalationStep] = []
    for index, values in enumerate(steps or []):
        step = existing.get(index + 1) or EscalationStep(position=index + 1)
        for name, value in values.items():
            setattr(step, name, value)
        minutes = step.after_minutes
        if minutes is not None and minutes > MAX_MINUTES:
            errors[f"steps.{index}.after_minutes"] = [
                gettext("This age is too long; use fewer minutes.")
            ]
            continue
        try:
            # The rule may not be saved yet; positions are unique by construction.
            step.full_clean(exclude=["rule"])
        except ValidationError as exc:
            errors.update(
                {f"steps.{index}.{name}": found for name, found in _messages(exc).items()}
            )
        kept.append(step)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target.save()
        if categories is not None:
            target.categories.set(list(categories))
        if steps is not None:
            target.steps.filter(position__gt=len(kept)).delete()
            for step in kept:
                step.rule = target
                step.save()
        # Open tickets may now climb (or leave) this ladder, or reach a step sooner.
        sla_queue_recompute(None)
    return target


def escalation_rule_delete(*, rule: EscalationRule) -> None:
    """Delete a rule with its steps; tickets on its ladder leave it."""
    with transaction.atomic():
        rule.delete()
        sla_queue_recompute(None)


# --- Admin forms ----------------------------------------------------------------------------


class ScheduleFormSet(BaseInlineFormSet):  # type: ignore[type-arg]  # admin inline formset
    """An inline formset whose rows, once valid, are checked as part of the whole schedule.

    The working hours are checked with the calendar's time zone and 24/7 flag (taken from
    the calendar form, already applied to ``instance``), the exceptions on their own; each
    error shows above the inline it concerns.
    """

    part = "periods"

    def live_forms(self) -> list[forms.Form]:
        return [
            form
            for form in self.forms
            if form.is_valid() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return  # the rows' own messages come first
        calendar = self.instance
        rows = [form.cleaned_data for form in self.live_forms()]
        if self.part == "periods":
            found = schedule_errors(
                zone=calendar.timezone,
                always_open=calendar.always_open,
                periods=[PeriodRow(r["weekday"], r["start_time"], r["end_time"]) for r in rows],
                exceptions=[],
            )
        else:
            found = schedule_errors(
                zone=calendar.timezone,
                always_open=True,
                periods=[],
                exceptions=[
                    ExceptionRow(
                        r["date"], r.get("name", ""), r.get("start_time"), r.get("end_time")
                    )
                    for r in rows
                ],
            )
        message = found.get(self.part)
        if message:
            raise ValidationError(message)


class ExceptionFormSet(ScheduleFormSet):
    part = "exceptions"


class PublicHolidaysForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


class IcsUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Calendar file (.ics)"),
        help_text=_("Exported from Outlook, Google Calendar or a public holiday website."),
    )

    # A holiday calendar is a few kilobytes; this bound keeps a wrong file from costing much.
    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(
                gettext("This file is too large for a holiday calendar (2 MB at most).")
            )
        return upload
