"""Turning the raw bytes of an email into plain, safe fields.

Mail comes from every kind of client and many broken ones, and some of it is hostile.
The rules here: never raise on bad input (a broken message still yields whatever text
can be read, and only a message with nothing readable at all raises
:class:`UnparseableMessage`); every charset problem degrades to readable text; HTML is
cleaned with an allow-list and remote images are dropped so the server never fetches
them and no reader is tracked; header values are cleaned of control characters before
they go anywhere near the database (header values are read by
:mod:`deskside.mail.headers`; this module walks the MIME tree, trims quoted history and
assembles :class:`ParsedMail`).

Nothing here decides what a message *means* (loops, threading, who sent it): the flags
are parsed so the intake's later steps can decide.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from deskside.mail.headers import (
    RAW_HEADER_POLICY,
    Headers,
    clean_header_text,
    clean_text,
    decode_bytes,
    decode_words,
    extract_message_id,
    header_block,
    message_ids,
    normalise_message_id,
    parse_date,
)
from deskside.mail.html import html_to_text, sanitise_html
from deskside.tickets.attachments import UploadedFile, safe_filename

logger = logging.getLogger(__name__)

# Deeper MIME nesting than this is not mail a person wrote; stop walking rather than
# recurse without end.
MAX_DEPTH = 20


class UnparseableMessage(Exception):
    """Nothing at all could be read from the message (for example, it is empty)."""


@dataclass(frozen=True)
class MailAttachment(UploadedFile):
    """A file found in an email: an ``UploadedFile`` plus what links it into the HTML.

    ``content_id`` (without angle brackets) is what an HTML body's ``cid:`` image refers
    to; ``is_inline`` says the sender meant it to be shown in the text, not listed.
    """

    content_id: str = ""
    is_inline: bool = False


@dataclass(frozen=True)
class BounceRecipient:
    """One recipient line of a delivery status notification (RFC 3464)."""

    address: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1; a leading 5 is a permanent failure

    @property
    def is_permanent_failure(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


@dataclass
class ParsedMail:
    """Everything the desk needs from one email, already decoded and cleaned."""

    from_address: str = ""  # lower-cased; From is the sender's identity
    from_name: str = ""
    reply_to: list[str] = field(default_factory=list)  # only ever a reply target
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    return_path: str | None = None  # None: header absent; "": the null sender "<>"
    auto_submitted: str = ""  # lower-cased, e.g. "auto-replied"; "" when absent
    precedence: str = ""  # lower-cased, e.g. "bulk", "list"
    list_id: str = ""
    auto_response_suppress: str = ""  # Microsoft's X-Auto-Response-Suppress
    is_bounce: bool = False
    bounce_recipients: list[BounceRecipient] = field(default_factory=list)
    bounced_message_id: str | None = None  # Message-ID of the mail that bounced
    text: str = ""  # the full text, quoted history and all
    trimmed_text: str = ""  # for display: quoted history and signature removed
    html: str = ""  # sanitised; "" when the sender sent no HTML
    attachments: list[MailAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # what was wrong with the message


# --- Trimming quoted history and signatures ---------------------------------------------

_REPLY_HEADER = re.compile(
    r"^\s*(On\s.{1,300}\swrote|Le\s.{1,300}\sa\s+écrit|Am\s.{1,300}\sschrieb(\s.{0,300})?"
    r"|El\s.{1,300}\sescribió|Op\s.{1,300}\sschreef)\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von|De)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Envoyé)\s*:\*?\s", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(Sent from my \w+|Get Outlook for (iOS|Android)|Sent from Mail for Windows)",
    re.IGNORECASE,
)


def _history_starts(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _REPLY_HEADER.match(line):
            return index
        # Gmail wraps long attributions: "On Tue, ... Ada <ada@example.com>" / "wrote:".
        if (
            line.strip().lower().startswith("on ")
            and following.strip().lower().endswith("wrote:")
            and _REPLY_HEADER.match(f"{line} {following}")
        ):
            return index
        if _ORIGINAL_MESSAGE.match(line):
            return index
        # Outlook: an optional rule of underscores, then "From: ..." with "Sent: ..."
        # a line or two below. A lone "From:" in the text is not enough.
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_NEXT.match(candidate) for candidate in lines[index + 1 : index + 4]
        ):
            if index > 0 and _UNDERSCORES.match(lines[index - 1]):
                return index - 1
            return index
    return None


def trim_text(text: str) -> str:
    """The new part of a message, for display: no quoted history, no signature.

    If trimming would leave nothing (a message that is all quote), the full text is
    returned instead, so nothing the sender wrote disappears from view.
    """
    lines = text.split("\n")
    cut = _history_starts(lines)
    if cut is not None:
        lines = lines[:cut]
    kept: list[str] = []
    for line in lines:
        if _SIGNATURE.match(line) and any(k.strip() for k in kept):
            break
        if _MOBILE_FOOTER.match(line) and any(k.strip() for k in kept):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    trimmed = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return trimmed or text.strip()


# --- MIME walking -----------------------------------------------------------------------


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    # Undecodable transfer encoding: the raw payload is better than nothing.
    try:
        raw_payload = part.get_payload()
    except Exception:
        return b""
    if isinstance(raw_payload, str):
        return raw_payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return clean_text(decode_bytes(_payload_bytes(part), charset))


def _serialise(message: Message) -> bytes:
    # compat32 does not refold or re-encode, so the copy is as close to the original
    # bytes as the email package allows.
    try:
        return message.as_bytes(policy=email.policy.compat32)
    except Exception:
        try:
            return message.as_string(policy=email.policy.compat32).encode(
                "utf-8", "surrogateescape"
            )
        except Exception:
            return b""


def _filename(part: Message, content_type: str, number: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = clean_header_text(decode_words(name))
    if not name:
        extension = mimetypes.guess_extension(content_type) or (
            ".txt" if content_type.startswith("text/") else ".bin"
        )
        name = f"attachment-{number}{extension}"
    return safe_filename(unicodedata.normalize("NFC", name))


class _Walker:
    """Collects text, HTML, attachments and bounce details from a message tree."""

    def __init__(self, parsed: ParsedMail) -> None:
        self.parsed = parsed
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []

    def walk(self, part: Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.parsed.defects.append("MIME parts nested too deeply; the rest was skipped")
            return
        try:
            content_type = part.get_content_type()
        except Exception:
            content_type = "text/plain"
        if content_type in {"message/rfc822", "message/global"}:
            self._forwarded(part, content_type)
            return
        if content_type == "message/delivery-status":
            self._delivery_status(part)
            return
        if content_type == "text/rfc822-headers" and self.parsed.is_bounce:
            self.parsed.bounced_message_id = self.parsed.bounced_message_id or (
                extract_message_id(_payload_bytes(part))
            )
        if part.is_multipart():
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else []:
                if isinstance(child, Message):
                    self.walk(child, depth + 1)
            return
        self._leaf(part, content_type)

    def _disposition(self, part: Message) -> str | None:
        try:
            return part.get_content_disposition()
        except Exception:
            return None

    def _leaf(self, part: Message, content_type: str) -> None:
        disposition = self._disposition(part)
        try:
            has_name = bool(part.get_filename())
        except Exception:
            has_name = False
        if disposition != "attachment" and not has_name:
            if content_type == "text/plain":
                self.text_parts.append(_part_text(part))
                return
            if content_type == "text/html":
                self.html_parts.append(_part_text(part))
                return
        content_id = normalise_message_id(decode_words(part.get("Content-ID") or "")) or ""
        self.parsed.attachments.append(
            MailAttachment(
                name=_filename(part, content_type, len(self.parsed.attachments) + 1),
                content=_payload_bytes(part),
                content_type=content_type if content_type.isascii() else clean_text(content_type),
                content_id=content_id,
                is_inline=disposition == "inline" or (disposition is None and bool(content_id)),
            )
        )

    def _forwarded(self, part: Message, content_type: str) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        content = _serialise(inner) if isinstance(inner, Message) else _payload_bytes(part)
        if self.parsed.is_bounce and isinstance(inner, Message):
            self.parsed.bounced_message_id = self.parsed.bounced_message_id or (
                extract_message_id(content)
            )
        try:
            name = decode_words(part.get_filename() or "")
        except Exception:
            name = ""
        if not name and isinstance(inner, Message):
            try:
                name = decode_words(inner.get("Subject") or "")
            except Exception:
                name = ""
        name = safe_filename(clean_header_text(name) or "Forwarded message")
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.parsed.attachments.append(
            MailAttachment(name=name, content=content, content_type="message/rfc822")
        )

    def _delivery_status(self, part: Message) -> None:
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        # The first block is about the reporting server; each later one is a recipient.
        for block in blocks[1:]:
            if not isinstance(block, Message):
                continue
            try:
                recipient = decode_words(
                    str(block.get("Final-Recipient") or block.get("Original-Recipient"))
                )
                action = decode_words(block.get("Action") or "")
                status = decode_words(block.get("Status") or "")
            except Exception:  # noqa: S112  (one unreadable recipient block; read the rest)
                continue
            address = clean_header_text(recipient.split(";", 1)[-1]).strip("<>").lower()
            if address and address != "none":
                self.parsed.bounce_recipients.append(
                    BounceRecipient(
                        address=address,
                        action=clean_header_text(action).lower(),
                        status=clean_header_text(status).split(" ")[0],
                    )
                )
        content = b"\n".join(_serialise(b) for b in blocks if isinstance(b, Message))
        self.parsed.attachments.append(
            MailAttachment(
                name="delivery-status.txt",
                content=content or _payload_bytes(part),
                content_type="text/plain",
            )
        )


# --- The entry point --------------------------------------------------------------------


def _looks_like_bounce(message: Message, parsed: ParsedMail) -> bool:
    try:
        if message.get_content_type() == "multipart/report":
            report_type = str(message.get_param("report-type") or "").lower()
            if report_type == "delivery-status":
                return True
    except Exception:  # noqa: S110  (a broken Content-Type; the sender checks below decide)
        pass
    sender = parsed.from_address.split("@", 1)[0]
    return sender in {"mailer-daemon", "postmaster"} or parsed.return_path == ""


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one raw email. Never raises on broken mail, except :class:`UnparseableMessage`
    when there is nothing at all to read."""
    if not raw or not raw.strip():
        raise UnparseableMessage("The message is empty.")
    try:
        message = email.message_from_bytes(raw, policy=RAW_HEADER_POLICY)
    except Exception as exc:  # RecursionError on absurd nesting, parser bugs
        logger.warning("Could not parse an incoming message's structure", exc_info=True)
        parsed = ParsedMail(defects=[f"The message structure could not be read: {exc!r}"])
        parsed.text = clean_text(decode_bytes(raw, None)).strip()
        parsed.trimmed_text = trim_text(parsed.text)
        if not parsed.text:
            raise UnparseableMessage("Nothing readable was found in the message.") from exc
        return parsed

    headers = Headers(message)
    parsed = ParsedMail()
    senders = headers.addresses("From")
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    parsed.reply_to = [address for _, address in headers.addresses("Reply-To")]
    parsed.to = [address for _, address in headers.addresses("To")]
    parsed.cc = [address for _, address in headers.addresses("Cc")]
    parsed.subject = clean_header_text(headers.first("Subject"))
    parsed.message_id = normalise_message_id(headers.ids("Message-ID"))
    parsed.in_reply_to = message_ids(headers.ids("In-Reply-To"))
    parsed.references = message_ids(headers.ids("References", every=True))
    parsed.date = parse_date(headers)
    if headers.raw("Return-Path"):
        return_path = clean_header_text(headers.first("Return-Path"))
        parsed.return_path = return_path.strip("<>").lower()
    parsed.auto_submitted = clean_header_text(headers.first("Auto-Submitted")).lower()
    parsed.precedence = clean_header_text(headers.first("Precedence")).lower()
    parsed.list_id = clean_header_text(headers.first("List-Id"))
    parsed.auto_response_suppress = clean_header_text(headers.first("X-Auto-Response-Suppress"))
    parsed.is_bounce = _looks_like_bounce(message, parsed)

    walker = _Walker(parsed)
    try:
        walker.walk(message)
    except Exception as exc:  # keep whatever was collected before the failure
        logger.warning("Could not read every part of an incoming message", exc_info=True)
        parsed.defects.append(f"Some parts could not be read: {exc!r}")

    text = "\n\n".join(part.strip("\n") for part in walker.text_parts if part.strip())
    html = "\n".join(walker.html_parts)
    if html.strip():
        try:
            parsed.html = sanitise_html(html).strip()
        except Exception as exc:
            parsed.defects.append(f"The HTML could not be cleaned and was dropped: {exc!r}")
    if not text.strip() and html.strip():
        text = html_to_text(html)
    parsed.text = text.strip("\n")
    parsed.trimmed_text = trim_text(parsed.text)
    # The defect list is only a diagnostic; failing to build it must not lose the message.
    with contextlib.suppress(Exception):
        parsed.defects.extend(
            type(defect).__name__ for part in message.walk() for defect in part.defects
        )

    nothing_read = not (
        parsed.text.strip() or parsed.attachments or parsed.subject or parsed.from_address
    )
    if nothing_read:
        raise UnparseableMessage("Nothing readable was found in the message.")
    return parsed


@dataclass(frozen=True)
class HeaderSummary:
    """Who sent a message, to whom, and about what: enough to list it for a person."""

    from_name: str
    from_address: str
    to: list[str]
    subject: str
    date: datetime | None


def header_summary(raw: bytes) -> HeaderSummary:
    """The From, To, Subject and Date of a raw message, read from its header block only.

    For lists of stored mail, where only the first few kilobytes are loaded. Never raises:
    whatever cannot be read is left blank.
    """
    block = header_block(raw)
    try:
        headers = Headers(email.message_from_bytes(block, policy=RAW_HEADER_POLICY))
        senders = headers.addresses("From")
        from_name, from_address = senders[0] if senders else ("", "")
        return HeaderSummary(
            from_name=from_name,
            from_address=from_address,
            to=[address for _, address in headers.addresses("To")],
            subject=clean_header_text(headers.first("Subject")),
            date=parse_date(headers),
        )
    except Exception:  # a list of mail must still show the rows it cannot read
        logger.warning("Could not read the headers of a stored message", exc_info=True)
        return HeaderSummary(from_name="", from_address="", to=[], subject="", date=None)
