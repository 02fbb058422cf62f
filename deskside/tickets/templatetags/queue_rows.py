"""The queue table's rows, rendered in Python.

The queue is the console's busiest page. Rendered by the template language, its 50 rows
cost tens of milliseconds (every variable goes through escaping, localisation and
translation lookups); here each row is one f-string with every value passed through
``escape``. The markup is what the template would write.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deskside.accounts.models import Team
from deskside.sla.phrasing import due_label, ticket_sla_or_none
from deskside.tickets.models import Status, StatusKind, Ticket

register = template.Library()

STOPPED = frozenset({StatusKind.RESOLVED, StatusKind.CLOSED})
# A symbol per state, so the deadline does not rely on colour (the words carry it too).
DUE_ICONS = {"overdue": "!", "soon": "◔", "ok": "", "paused": "Ⅱ"}


def ago(moment: datetime, now: datetime) -> str:
    """'5 minutes ago', in the largest whole unit (cheaper than Django's timesince)."""
    seconds = max(0, int((now - moment).total_seconds()))
    for size, singular, plural in (
        (86400 * 365, "%(n)d year ago", "%(n)d years ago"),
        (86400 * 30, "%(n)d month ago", "%(n)d months ago"),
        (86400, "%(n)d day ago", "%(n)d days ago"),
        (3600, "%(n)d hour ago", "%(n)d hours ago"),
        (60, "%(n)d minute ago", "%(n)d minutes ago"),
    ):
        if seconds >= size:
            count = seconds // size
            return ngettext(singular, plural, count) % {"n": count}
    return _("just now")


@register.simple_tag
def queue_rows(
    tickets: Iterable[Ticket], statuses: Iterable[Status], teams: Iterable[Team]
) -> SafeString:
    """Rows for ``tickets``; status and team names come from the lists the page has."""
    status_names = {status.pk: escape(status.name) for status in statuses}
    team_names = {team.pk: escape(team.name) for team in teams}
    l_number, l_subject, l_requester = (
        escape(_("Number")),
        escape(_("Subject")),
        escape(_("Requester")),
    )
    l_priority, l_status, l_team = escape(_("Priority")), escape(_("Status")), escape(_("Team"))
    l_assigned, l_updated = escape(_("Assigned to")), escape(_("Updated"))
    l_due = escape(_("Next deadline"))
    nobody = f'<span class="muted">{escape(_("Nobody"))}</span>'
    critical = (
        '<span class="badge badge--p1"><span aria-hidden="true">▲ </span>P1'
        f'<span class="visually-hidden"> {escape(_("business-critical"))}</span></span>'
    )
    select = _("Select %(number)s")
    # One reverse() for the page; each ticket's address is this prefix plus its number.
    base = reverse("tickets:queue")
    now = timezone.now()
    rows = []
    for ticket in tickets:
        pk = int(ticket.pk)
        url = f"{base}{pk}/"
        p1 = ticket.priority == 1
        level = int(ticket.priority)
        priority = critical if p1 else f'<span class="badge badge--p{level}">P{level}</span>'
        updated = timezone.localtime(ticket.updated_at)
        assignee = escape(ticket.assignee.full_name) if ticket.assignee else nobody
        team = team_names.get(ticket.team_id, "—") if ticket.team_id else "—"
        sla = ticket_sla_or_none(ticket)
        label = due_label(
            ticket.sla_due_at,
            now,
            paused=sla is not None and sla.paused_since is not None,
            stopped=ticket.status_kind in STOPPED,
        )
        if label is None:
            due = ""
        else:
            icon = DUE_ICONS[label.state]
            mark = f'<span aria-hidden="true">{icon} </span>' if icon else ""
            stamp = (
                f' datetime="{timezone.localtime(ticket.sla_due_at).isoformat()}"'
                f' title="{timezone.localtime(ticket.sla_due_at):%Y-%m-%d %H:%M}"'
                if ticket.sla_due_at
                else ""
            )
            tag = "time" if stamp else "span"
            due = (
                f'<{tag} class="sla-due sla-due--{label.state}"{stamp}>{mark}'
                f"{escape(label.text)}</{tag}>"
            )
        rows.append(
            f'<tr class="{"is-p1" if p1 else ""}" data-ticket="{pk}">'
            f'<td class="queue-table__select"><input type="checkbox" name="ticket" value="{pk}" '
            f'id="pick-{pk}" aria-label="{escape(select % {"number": f"#{pk}"})}"></td>'
            f'<td data-label="{l_number}"><a href="{url}" class="ticket-number">#{pk}</a></td>'
            f'<td data-label="{l_subject}" class="queue-table__subject">'
            f'<a href="{url}">{escape(ticket.subject)}</a></td>'
            f'<td data-label="{l_requester}">{escape(ticket.requester.full_name)}</td>'
            f'<td data-label="{l_priority}">{priority}</td>'
            f'<td data-label="{l_status}">{status_names.get(ticket.status_id, "")}</td>'
            f'<td data-label="{l_team}">{team}</td>'
            f'<td data-label="{l_assigned}">{assignee}</td>'
            f'<td data-label="{l_due}">{due}</td>'
            f'<td data-label="{l_updated}"><time datetime="{updated.isoformat()}" '
            f'title="{updated:%Y-%m-%d %H:%M}">{escape(ago(ticket.updated_at, now))}</time></td>'
            "</tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308  (every value above is escaped)
