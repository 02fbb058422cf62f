"""SLA times in plain words: "due in 25 min", "today at 14:00", "by 09:30 tomorrow".

One place for the wording, so the console, the portal and the acknowledgement mail say
the same thing the same way. Times are shown in the desk's time zone
(``settings.TIME_ZONE``, or the one a request activated): there is no per-user zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deskside.sla.models import TicketSla
from deskside.tickets.models import StatusKind, Ticket

__all__ = [
    "DueLabel",
    "due_label",
    "expected_answer_phrase",
    "ticket_sla_or_none",
    "when_phrase",
]

STOPPED_KINDS = frozenset({StatusKind.RESOLVED, StatusKind.CLOSED})
# Deadlines closer than this are shown as "soon" (amber) rather than "on track".
SOON_MINUTES = 60
# Beyond this many days ahead, a weekday name is ambiguous, so the date is given.
WEEK_DAYS = 7


def desk_zone() -> tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _day(local: datetime, today: datetime) -> tuple[int, str]:
    """How many days ahead ``local`` is, and its name beyond tomorrow ("Monday", "14 January")."""
    days = (local.date() - today.date()).days
    if 1 < days < WEEK_DAYS:
        return days, formats.date_format(local, "l")
    pattern = "j F" if local.year == today.year else "j F Y"
    return days, formats.date_format(local, pattern)


def when_phrase(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """ "today at 14:00", "tomorrow at 09:30", "on Monday at 09:30", "on 14 January at 09:30"."""
    zone = zone or desk_zone()
    local, today = timezone.localtime(moment, zone), timezone.localtime(now, zone)
    days, name = _day(local, today)
    time = _clock(local)
    if days == 0:
        return _("today at %(time)s") % {"time": time}
    if days == 1:
        return _("tomorrow at %(time)s") % {"time": time}
    if days == -1:
        return _("yesterday at %(time)s") % {"time": time}
    return _("on %(day)s at %(time)s") % {"day": name, "time": time}


def _by_phrase(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """The same as :func:`when_phrase`, ordered to follow "by": "14:00 today"."""
    local, today = timezone.localtime(moment, zone), timezone.localtime(now, zone)
    days, name = _day(local, today)
    time = _clock(local)
    if days == 0:
        return _("%(time)s today") % {"time": time}
    if days == 1:
        return _("%(time)s tomorrow") % {"time": time}
    return _("%(time)s on %(day)s") % {"day": name, "time": time}


def ticket_sla_or_none(ticket: Ticket) -> TicketSla | None:
    try:
        return ticket.sla
    except ObjectDoesNotExist:
        return None


def expected_answer_phrase(ticket: Ticket, now: datetime | None = None) -> str | None:
    """One sentence telling the requester when to expect IT, or None if nothing is promised.

    The first answer while none has been sent; otherwise the next update while its clock
    runs; otherwise nothing. A promise already missed is owned up to, not restated.
    """
    now = now or timezone.now()
    if ticket.status_kind in STOPPED_KINDS:
        return None
    sla = ticket_sla_or_none(ticket)
    if sla is None or sla.policy_id is None:
        return None
    zone = desk_zone()
    if ticket.first_response_at is None and sla.first_response_due is not None:
        if sla.first_response_due <= now:
            return _("Our first answer is running late. Someone will reply as soon as they can.")
        return _("You can expect a first answer by %(when)s.") % {
            "when": _by_phrase(sla.first_response_due, now, zone)
        }
    if (
        sla.next_update_due is not None
        and sla.next_update_started_at is not None
        and sla.paused_since is None
    ):
        if sla.next_update_due <= now:
            return _("Our next update is running late. Someone will reply as soon as they can.")
        return _("You can expect our next update by %(when)s.") % {
            "when": _by_phrase(sla.next_update_due, now, zone)
        }
    return None


@dataclass(frozen=True)
class DueLabel:
    """A deadline for a list: words that stand on their own, and a state for colour."""

    text: str
    state: str  # "overdue", "soon", "ok" or "paused"


def _span(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = round(minutes / 60)
    if hours < 48:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = round(hours / 24)
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def due_label(
    due: datetime | None, now: datetime, *, paused: bool = False, stopped: bool = False
) -> DueLabel | None:
    """ "due in 25 min", "overdue by 2 h", "paused", or None when there is no promise.

    ``stopped``: the ticket is resolved or closed, so no deadline applies any more.
    """
    if stopped:
        return None
    if due is None:
        return DueLabel(_("paused"), "paused") if paused else None
    seconds = int((due - now).total_seconds())
    if seconds <= 0:
        return DueLabel(_("overdue by %(span)s") % {"span": _span(-seconds)}, "overdue")
    state = "soon" if seconds <= SOON_MINUTES * 60 else "ok"
    return DueLabel(_("due in %(span)s") % {"span": _span(seconds)}, state)
