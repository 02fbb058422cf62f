"""Attachment downloads for the console and the portal, through the permission gate.

Files live under the data directory and no URL serves that directory; this view is the
only way out. Whatever a file claims to be, the browser is told not to sniff it, not to run
anything in it, and to download it, except the few image types that may be shown inline.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from deskside.accounts.models import User
from deskside.tickets.attachments import INLINE_TYPES
from deskside.tickets.selectors import attachment_get

# Even if a stored file were HTML or SVG, nothing in it may load, run or be framed.
ATTACHMENT_CSP = "default-src 'none'; sandbox"


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name plus the exact name as UTF-8 in ``filename*``."""
    fallback = (
        "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename).strip()
        or "attachment"
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@require_safe
def attachment_download(request: HttpRequest, key: str) -> HttpResponseBase:
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        return redirect_to_login(request.get_full_path())
    attachment = attachment_get(user, key)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        # The row exists but its file is gone (restored from an older backup, say).
        raise Http404 from None
    inline = request.GET.get("inline") == "1" and attachment.content_type in INLINE_TYPES
    # The stored type was decided from the sanitised name, not taken from the uploader.
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    # Only this person's browser may keep a copy; shared caches and proxies must not.
    response["Cache-Control"] = "private"
    response["Vary"] = "Cookie"
    return response
