"""Demo service levels: office hours with a lunch break, public holidays, three policies.

Runs after the tickets app's demo (INSTALLED_APPS order), then computes the demo tickets'
clocks, so the console shows real deadlines, some of them at risk.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.utils import timezone

from deskside.demo import DemoContext
from deskside.sla.holidays import public_holidays
from deskside.sla.models import BusinessCalendar, Holiday, HolidaySource, SlaPolicy, WorkingPeriod
from deskside.sla.services import sla_recompute

CALENDAR = "Office hours"
HOUR = 60
DAY = 8 * HOUR  # one business day of the demo calendar

POLICIES = [
    # name, priorities, first response, next update, resolution (business minutes)
    ("Business-critical", [1], 30, HOUR, 4 * HOUR),
    ("High", [2], 2 * HOUR, 4 * HOUR, 2 * DAY),
    ("Standard", [], DAY, None, 5 * DAY),
]


def populate(ctx: DemoContext) -> None:
    if BusinessCalendar.objects.filter(name=CALENDAR).exists():
        return
    calendar = BusinessCalendar.objects.create(
        name=CALENDAR,
        timezone=settings.TIME_ZONE,
        holiday_country=settings.DEFAULT_PHONE_REGION,
    )
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=calendar, weekday=weekday, start_time=time(8, 30), end_time=time(12, 30)
        )
        WorkingPeriod.objects.create(
            calendar=calendar, weekday=weekday, start_time=time(13, 30), end_time=time(17, 30)
        )
    year = timezone.now().year
    try:
        found = public_holidays(settings.DEFAULT_PHONE_REGION, None, [year, year + 1])
    except ValueError:
        found = []  # a region the holidays package does not know: no public holidays
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=day, name=name[:120], source=HolidaySource.PUBLIC)
        for day, name in found
    )
    for position, (name, priorities, first, update, resolution) in enumerate(POLICIES):
        SlaPolicy.objects.create(
            name=name,
            position=position,
            calendar=calendar,
            priorities=priorities,
            first_response_minutes=first,
            next_update_minutes=update,
            resolution_minutes=resolution,
        )
    ctx.created["SLA policies"] += len(POLICIES)
    ctx.created["tickets with SLA clocks"] += sla_recompute()
