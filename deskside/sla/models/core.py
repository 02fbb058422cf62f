"""Service levels: business calendars, SLA policies, and each ticket's clocks.

The arithmetic lives in :mod:`deskside.sla.businesstime` (pure, tested on its own); these
models hold what administrators edit and what each ticket has been promised. A ticket's
due times are stored on its row (``TicketSla``, and the single next deadline on
``Ticket.sla_due_at``), recomputed only when something relevant changes, so the sweep
reads an index of due times and never scans open tickets.
"""

from __future__ import annotations

from datetime import datetime, time
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as django_timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deskside.sla.businesstime import Schedule, WorkingHours

__all__ = [
    "BusinessCalendar",
    "CalendarException",
    "Clock",
    "Holiday",
    "HolidaySource",
    "SlaEvent",
    "SlaPolicy",
    "TicketSla",
    "Weekday",
    "WorkingPeriod",
    "parse_percentages",
    "validate_percentages",
    "validate_timezone",
]

MINUTES_PER_DAY = 1440


def now() -> datetime:
    """The current time, looked up on each call (so a controlled clock in tests reaches it;
    a field named ``timezone`` below is why the module is imported under another name)."""
    return django_timezone.now()


DEFAULT_WARNINGS = "75,90"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            gettext(
                "“%(value)s” is not a time zone name. Use a name such as Europe/London or "
                "America/New_York."
            ),
            params={"value": value},
            code="unknown_timezone",
        ) from None


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


def _minute(value: time | None, *, end: bool = False) -> int:
    if value is None:
        return MINUTES_PER_DAY if end else 0
    minutes = value.hour * 60 + value.minute
    # An end of 00:00 means midnight at the end of the day: "09:00 to 00:00".
    return MINUTES_PER_DAY if end and minutes == 0 else minutes


class BusinessCalendar(models.Model):
    """When the desk works: a time zone, weekly hours, holidays and one-off exceptions."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    always_open = models.BooleanField(
        _("open around the clock (24/7)"),
        default=False,
        help_text=_("Every hour of every day counts; the weekly hours and holidays are ignored."),
    )
    holiday_country = models.CharField(
        _("public holidays of country"),
        max_length=2,
        blank=True,
        help_text=_("Two-letter code such as GB or US, to add that country's public holidays."),
    )
    holiday_subdivision = models.CharField(
        _("region"), max_length=10, blank=True, help_text=_("Such as ENG, or CA for California.")
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")

    def __str__(self) -> str:
        return self.name

    @cached_property
    def schedule(self) -> Schedule:
        """The calendar as the arithmetic module takes it (read once per instance)."""
        if self.always_open:
            return Schedule(timezone=self.timezone, always_open=True)
        periods = tuple(
            WorkingHours(
                weekday=period.weekday,
                start_minute=_minute(period.start_time),
                end_minute=_minute(period.end_time, end=True),
            )
            for period in self.periods.all()
        )
        closed = frozenset(self.holidays.values_list("date", flat=True))
        special: dict[object, list[tuple[int, int]]] = {}
        for exception in self.exceptions.all():
            ranges = special.setdefault(exception.date, [])
            if exception.start_time is not None and exception.end_time is not None:
                ranges.append(
                    (_minute(exception.start_time), _minute(exception.end_time, end=True))
                )
        return Schedule(
            timezone=self.timezone,
            periods=periods,
            closed_dates=closed,
            special_days=tuple(
                (day, tuple(sorted(ranges)))  # type: ignore[misc]
                for day, ranges in sorted(special.items(), key=lambda item: str(item[0]))
            ),
        )


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday; several per day make lunch breaks."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(
        _("until"), help_text=_("00:00 means midnight, the end of the day.")
    )

    class Meta:
        ordering = ["weekday", "start_time"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M} to {self.end_time:%H:%M}"

    def clean(self) -> None:
        if _minute(self.end_time, end=True) <= _minute(self.start_time):
            raise ValidationError(
                {"end_time": gettext("The end must be after the start (00:00 means midnight).")}
            )


class HolidaySource(models.TextChoices):
    MANUAL = "manual", _("Added by hand")
    PUBLIC = "public", _("Public holiday list")
    ICAL = "ical", _("Imported calendar file")


class Holiday(models.Model):
    """A day with no working time at all."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    source = models.CharField(max_length=10, choices=HolidaySource.choices, default="manual")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class CalendarException(models.Model):
    """One date with different hours (or closed), such as a short day before a holiday.

    Rows for the same date together replace that weekday's hours. A row with no times
    closes the date.
    """

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("reason"), max_length=120, blank=True)
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        verbose_name = _("one-off exception")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()

    def clean(self) -> None:
        if (self.start_time is None) != (self.end_time is None):
            raise ValidationError(
                gettext("Give both a start and an end, or neither to close the whole day.")
            )
        if (
            self.start_time is not None
            and self.end_time is not None
            and _minute(self.end_time, end=True) <= _minute(self.start_time)
        ):
            raise ValidationError(
                {"end_time": gettext("The end must be after the start (00:00 means midnight).")}
            )


def parse_percentages(value: str) -> list[int]:
    """Turn text such as "75, 90" into [75, 90]; raises ValidationError naming the problem."""
    found = []
    for part in value.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 99:
            raise ValidationError(
                gettext("Warnings are percentages between 1 and 99, such as 75, 90."),
                code="bad_percentage",
            )
        found.append(int(part))
    return sorted(set(found))


def validate_percentages(value: str) -> None:
    parse_percentages(value)


class SlaPolicy(models.Model):
    """What the desk promises for the tickets it matches, in business time.

    Policies are tried in order (lowest position first); the first whose conditions all
    match applies. An empty condition matches everything.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="+"
    )
    # Conditions.
    priorities = models.JSONField(
        _("priorities"), default=list, blank=True, help_text=_("Such as [1, 2]. Empty: any.")
    )
    categories = models.ManyToManyField("tickets.Category", blank=True, related_name="+")
    teams = models.ManyToManyField("accounts.Team", blank=True, related_name="+")
    departments = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    vip_only = models.BooleanField(
        _("only for VIP requesters"), default=False, help_text=_("Match only VIP requesters.")
    )
    # Targets, in business minutes.
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"))
    next_update_minutes = models.PositiveIntegerField(
        _("next update within (minutes)"),
        null=True,
        blank=True,
        help_text=_("After each message from the requester. Empty: no promise."),
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"))
    pause_when_waiting_on_requester = models.BooleanField(default=True)
    pause_when_waiting_on_third_party = models.BooleanField(default=False)
    warning_percentages = models.CharField(
        _("warn at (%)"),
        max_length=40,
        default=DEFAULT_WARNINGS,
        validators=[validate_percentages],
        help_text=_("Comma-separated, such as 75, 90. A breach is always at 100."),
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for field in ("first_response_minutes", "resolution_minutes", "next_update_minutes"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                errors[field] = gettext("A target must be at least one minute.")
        bad = [p for p in self.priorities or [] if p not in (1, 2, 3, 4)]
        if not isinstance(self.priorities, list) or bad:
            errors["priorities"] = gettext(
                "List priorities as numbers from 1 to 4, such as [1, 2]."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def warnings(self) -> list[int]:
        return parse_percentages(self.warning_percentages)


class Clock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_UPDATE = "next_update", _("Next update")
    RESOLUTION = "resolution", _("Resolution")


class TicketSla(models.Model):
    """One ticket's promise and where each clock stands.

    Accumulators (minutes paused, the next-update cycle) make every due time recomputable
    from the ticket and its policy at any moment, so a policy or calendar change is a
    plain recomputation. Levels record the last warning (or 100 for the breach) already
    reported per clock, so no event is reported twice.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="sla"
    )
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    first_response_due = models.DateTimeField(null=True)
    resolution_due = models.DateTimeField(null=True)
    next_update_due = models.DateTimeField(null=True)
    # Next update: counted from the requester's latest unanswered message.
    next_update_started_at = models.DateTimeField(null=True)
    next_update_cycle = models.PositiveIntegerField(default=0)
    next_update_paused_minutes = models.FloatField(default=0)
    # Pauses ("waiting on you", resolved) stop the resolution and next-update clocks.
    paused_since = models.DateTimeField(null=True)
    paused_minutes = models.FloatField(default=0)
    first_response_level = models.PositiveSmallIntegerField(default=0)
    resolution_level = models.PositiveSmallIntegerField(default=0)
    next_update_level = models.PositiveSmallIntegerField(default=0)
    # Outcomes, kept when the ticket is closed.
    first_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    next_update_breaches = models.PositiveIntegerField(default=0)
    # When the sweep must look at this ticket next (the earliest warning or breach not yet
    # reported); NULL when no clock runs. The sweep reads only this index.
    next_check_at = models.DateTimeField(null=True, db_index=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("ticket SLA")

    def __str__(self) -> str:
        return f"SLA of #{self.ticket_id}"


class SlaEvent(models.Model):
    """A warning or breach, recorded once (the unique constraint makes sweeps idempotent)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    clock = models.CharField(max_length=16, choices=Clock.choices)
    # Which run of the clock: next-update cycles repeat; the others are always 0.
    cycle = models.PositiveIntegerField(default=0)
    # The percentage of the target reached; 100 is the breach.
    threshold = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "cycle", "threshold"], name="sla_event_once"
            )
        ]
        indexes = [models.Index(fields=["ticket", "recorded_at"], name="sla_event_ticket")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.clock} {self.threshold}%"

    @property
    def is_breach(self) -> bool:
        return self.threshold >= 100
