"""Saving attachments safely: size and count limits, sanitised names, private storage."""

from __future__ import annotations

import mimetypes
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from deskside.accounts.models import User
from deskside.tickets.models import Attachment, Message, Ticket, TicketSettings

# Shown inline in the browser; everything else is always downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class UploadedFile:
    """A file on its way in, from any channel (form upload, API, email)."""

    name: str
    content: bytes
    content_type: str = ""


def safe_filename(name: str) -> str:
    """A name safe to show and to offer for download: no paths, controls or odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r'[<>:"|?*;]', "_", base).strip(" .")
    if not base:
        base = "attachment"
    if len(base) > 150:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:150]
    return base


def guess_type(filename: str, declared: str) -> str:
    # The declared type is the sender's claim; the extension decides, so a .html file
    # declared as image/png is still not served inline.
    guessed, _encoding = mimetypes.guess_type(filename)
    return guessed or (declared if declared == "text/plain" else "application/octet-stream")


def check_files(files: Sequence[UploadedFile]) -> None:
    limits = TicketSettings.current()
    if len(files) > limits.max_attachments_per_message:
        raise ValidationError(
            {
                "files": _("Attach at most %(count)d files to one message.")
                % {"count": limits.max_attachments_per_message}
            }
        )
    max_bytes = limits.max_attachment_mb * 1024 * 1024
    for upload in files:
        if len(upload.content) > max_bytes:
            raise ValidationError(
                {
                    "files": _(
                        "%(name)s is larger than %(mb)d MB. Share a smaller copy or a link "
                        "to it instead."
                    )
                    % {"name": safe_filename(upload.name), "mb": limits.max_attachment_mb}
                }
            )


def attachments_save(
    *,
    ticket: Ticket,
    message: Message | None,
    files: Sequence[UploadedFile],
    uploaded_by: User | None,
) -> list[Attachment]:
    """Store files for a message. Call inside the message's transaction."""
    check_files(files)
    saved = []
    for upload in files:
        filename = safe_filename(upload.name)
        attachment = Attachment(
            ticket=ticket,
            message=message,
            key=secrets.token_hex(16),
            filename=filename,
            content_type=guess_type(filename, upload.content_type),
            size=len(upload.content),
            uploaded_by=uploaded_by,
        )
        attachment.file.save(attachment.key, ContentFile(upload.content), save=False)
        attachment.save()
        saved.append(attachment)
    return saved


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


def attachment_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """The one way a stored file leaves Deskside, for the web pages and the API alike.

    The caller has already fetched ``attachment`` through the permission gate. The browser
    is told not to sniff the type, not to run anything in the file, and to download it,
    except the few image types that may be shown inline when asked for.
    """
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        # The row exists but its file is gone (restored from an older backup, say).
        raise Http404 from None
    shown_inline = inline and attachment.content_type in INLINE_TYPES
    # The stored type was decided from the sanitised name, not taken from the uploader.
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.filename, inline=shown_inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    # Only this person's browser may keep a copy; shared caches and proxies must not.
    response["Cache-Control"] = "private"
    response["Vary"] = "Cookie, Authorization"
    return response
