"""The email pages of the console: mailbox health, mail needing review, and raw sources.

Administrators only (the gate's mail policies); anyone else is told the page does not
exist. Raw mail is shown escaped and downloaded as a file, never rendered as a page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskside.accounts import permissions
from deskside.accounts.decorators import console_required
from deskside.accounts.models import User
from deskside.mail import selectors
from deskside.mail.intake import (
    DISMISSABLE_STATES,
    REPROCESSABLE_STATES,
    inbound_dismiss,
    inbound_release,
    inbound_reprocess,
)
from deskside.mail.models import InboundMessage, InboundState

PAGE_SIZE = 25
# Enough of the source to diagnose a problem without sending a 25 MB page to a browser.
RAW_PREVIEW_BYTES = 64 * 1024


def _reviewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # console_required let only signed-in staff through
    if not selectors.may_review_mail(user):
        raise Http404
    return user


@require_GET
@console_required
def mail_overview(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    which = request.GET.get("show", "attention")
    if which not in selectors.INBOUND_LISTS:
        which = "attention"
    page = Paginator(selectors.inbound_list(user, which), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(inbound, selectors.summary_of(inbound)) for inbound in page.object_list]
    return render(
        request,
        "mail/console/overview.html",
        {
            "health": selectors.mailbox_health(user),
            "unassigned_attention": selectors.unassigned_attention_count(user),
            "which": which,
            "page": page,
            "rows": rows,
            "page_range": page.paginator.get_elided_page_range(page.number),
        },
    )


@require_GET
@console_required
def inbound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    inbound = permissions.get_visible_or_404(
        user, InboundMessage.objects.select_related("mailbox", "ticket", "reviewed_by"), pk=pk
    )
    data = bytes(inbound.raw)
    preview = data[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
    summary = selectors.summary_of(inbound)
    from deskside.mail.apply import claimed_ticket

    return render(
        request,
        "mail/console/inbound_detail.html",
        {
            "inbound": inbound,
            "summary": summary,
            "preview": preview,
            "preview_cut": len(data) > RAW_PREVIEW_BYTES,
            "claimed_ticket": claimed_ticket(summary.subject),
            "can_reprocess": inbound.state in REPROCESSABLE_STATES,
            "can_release": inbound.state == InboundState.HELD,
            "can_dismiss": inbound.state in DISMISSABLE_STATES,
        },
    )


@require_GET
@console_required
def inbound_download(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    inbound = permissions.get_visible_or_404(user, InboundMessage, pk=pk)
    # A download, never a page: the browser must not render hostile HTML from our origin.
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@console_required
def inbound_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _reviewer(request)
    inbound = permissions.get_visible_or_404(user, InboundMessage.objects.defer("raw"), pk=pk)
    try:
        if action == "reprocess":
            result = inbound_reprocess(inbound.pk, reviewer=user)
        elif action == "release":
            ticket_id = None
            number = request.POST.get("ticket", "").strip().lstrip("#")
            if number:
                if not number.isdigit() or len(number) > 18:
                    raise ValidationError(
                        _("Enter a ticket number such as 1042, or leave it empty.")
                    )
                ticket_id = int(number)
            result = inbound_release(inbound.pk, reviewer=user, ticket_id=ticket_id)
        elif action == "dismiss":
            result = inbound_dismiss(inbound.pk, reviewer=user)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("mail:inbound", pk=inbound.pk)
    if result.state == InboundState.PROCESSED and result.ticket_id is not None:
        messages.success(
            request,
            _("The message is now on ticket #%(number)d.") % {"number": result.ticket_id},
        )
    elif result.state == InboundState.REJECTED:
        messages.success(request, _("The message was dismissed. Its source is still kept."))
    else:
        messages.warning(
            request,
            _("The message was not added to the desk: %(reason)s")
            % {"reason": result.error or result.get_state_display()},
        )
    return redirect("mail:inbound", pk=inbound.pk)
