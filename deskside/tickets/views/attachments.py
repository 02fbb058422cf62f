"""Attachment downloads for the console and the portal, through the permission gate.

Files live under the data directory and no URL serves that directory; this view is the
only way out. Whatever a file claims to be, the browser is told not to sniff it, not to run
anything in it, and to download it, except the few image types that may be shown inline.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from deskside.accounts.models import User
from deskside.tickets.attachments import attachment_response
from deskside.tickets.selectors import attachment_get


@require_safe
def attachment_download(request: HttpRequest, key: str) -> HttpResponseBase:
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        return redirect_to_login(request.get_full_path())
    attachment = attachment_get(user, key)
    return attachment_response(attachment, inline=request.GET.get("inline") == "1")
