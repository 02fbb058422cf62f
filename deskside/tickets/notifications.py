"""Mail that tells requesters what happened to their ticket.

Only the resolution is mailed for now: the note saying what happened and how to avoid it
next time. Replies by mail, threading and loop safety arrive with the email channel.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from deskside.tickets.models import StatusKind, Ticket

logger = logging.getLogger(__name__)


def resolution_queue_mail(ticket_id: int) -> None:
    """Mail the resolution note once the resolving transaction has committed."""
    transaction.on_commit(lambda: resolution_mail_task(ticket_id), robust=True)


@db_task(retries=3, retry_delay=60)  # type: ignore[untyped-decorator]  # huey is untyped
def resolution_mail_task(ticket_id: int) -> None:
    ticket = Ticket.objects.select_related("requester", "assignee").filter(pk=ticket_id).first()
    # Reopened again before the job ran: the note no longer describes the ticket.
    if ticket is None or ticket.status_kind != StatusKind.RESOLVED:
        return
    requester = ticket.requester
    if not requester.is_active:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "ticket": ticket,
            "requester": requester,
            "agent": ticket.assignee,
            "link": settings.BASE_URL + reverse("portal:ticket", kwargs={"pk": ticket.pk}),
        }
        send_mail(
            subject=_("[#%(number)s] Fixed: %(subject)s")
            % {"number": ticket.pk, "subject": ticket.subject},
            message=render_to_string("tickets/email/resolved.txt", context),
            from_email=None,
            recipient_list=[requester.email],
        )
    logger.info("Mailed the resolution of #%s to the requester.", ticket.pk)
