"""Turning the raw bytes of an email into plain, safe fields.

Mail comes from every kind of client and many broken ones, and some of it is hostile.
The rules here: never raise on bad input (a broken message still yields whatever text
can be read, and only a message with nothing readable at all raises
:class:`UnparseableMessage`); every charset problem degrades to readable text; HTML is
cleaned with an allow-list and remote images are dropped so the server never fetches
them and no reader is tracked; header values are cleaned of control characters before
they go anywhere near the database.

Nothing here decides what a message *means* (loops, threading, who sent it): the flags
are parsed so the intake's later steps can decide.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email
import email.policy
import email.utils
import hashlib
import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING

from deskside.mail.html import html_to_text, sanitise_html
from deskside.tickets.attachments import UploadedFile, safe_filename

logger = logging.getLogger(__name__)

# Deeper MIME nesting than this is not mail a person wrote; stop walking rather than
# recurse without end.
MAX_DEPTH = 20
MAX_MESSAGE_ID_LENGTH = 255

# Names mail clients use that Python's codecs do not know.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-sjis": "shift_jis",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "x-user-defined": "latin-1",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}


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


# --- Small, total helpers ---------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MSGID = re.compile(r"<([^<>\s]+)>")


def _fix_surrogates(value: str) -> str:
    # The email package keeps undecodable header bytes as lone surrogates; turn them back
    # into bytes and decode those properly (raw UTF-8 headers are common).
    if not _ESCAPED_BYTE.search(value):
        return value
    try:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")
    except UnicodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def clean_text(value: str) -> str:
    """Text safe to store and show: valid Unicode, no NULs or other control characters."""
    value = _fix_surrogates(value)
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value)


def clean_header_text(value: str) -> str:
    """A header value on one line with runs of whitespace collapsed."""
    return " ".join(clean_text(value).split())


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, degrading to UTF-8, Windows-1252, then Latin-1.

    Strict first, so a part that declares UTF-8 but is really Latin-1 is noticed and
    read as Latin-1 instead of being filled with replacement characters. Latin-1 maps
    every byte, so this never raises.
    """
    tried: list[str] = []
    name = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    for candidate in (name, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            normalised = codecs.lookup(candidate).name
        except (LookupError, ValueError):
            continue
        if normalised in tried:
            continue
        tried.append(normalised)
        try:
            return data.decode(normalised)
        except (UnicodeError, LookupError, ValueError, TypeError):
            # LookupError too: bytes.decode refuses codecs that are not text encodings.
            continue
    return data.decode("latin-1", errors="replace")


def normalise_message_id(value: str | None) -> str | None:
    """The first Message-ID in a header value, without brackets; None if there is none.

    Brackets are optional here because some broken mailers leave them out. An ID too long
    to index is replaced by a digest of itself, so it still matches itself and nothing else.
    """
    if not value:
        return None
    value = clean_text(value)
    match = _MSGID.search(value)
    token = match.group(1) if match else (value.split() or [""])[0].strip("<>")
    if not token:
        return None
    if len(token) > MAX_MESSAGE_ID_LENGTH:
        token = "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()
    return token


def message_ids(value: str | None) -> list[str]:
    """Every Message-ID in a References or In-Reply-To value, in order, without repeats."""
    if not value:
        return []
    value = clean_text(value)
    found = _MSGID.findall(value) or [t.strip("<>") for t in value.replace(",", " ").split()]
    result: list[str] = []
    for token in found:
        normalised = normalise_message_id(f"<{token}>")
        if normalised and normalised not in result:
            result.append(normalised)
    return result


def header_block(raw: bytes) -> bytes:
    """Only the header section of a raw message, without reading through a large body."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator)
        if end != -1:
            return raw[: end + len(separator)]
    return raw


def extract_message_id(raw: bytes) -> str | None:
    """The normalised Message-ID header, read tolerantly from the header block only.

    Used before the message is stored, so it must never raise.
    """
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(header_block(raw))
        value = headers.get("Message-ID")
        return normalise_message_id(str(value)) if value is not None else None
    except Exception:  # a message we cannot read the ID of is still stored, by its hash
        logger.warning("Could not read the Message-ID of an incoming message", exc_info=True)
        return None


# --- Headers ----------------------------------------------------------------------------

if TYPE_CHECKING:
    _Compat32 = email.policy.Compat32[Message]
else:
    _Compat32 = email.policy.Compat32


class _RawHeaderPolicy(_Compat32):
    """compat32 parsing, with every header read back as the sender wrote it, unfolded.

    The modern policy (``email.policy.default``) turns each header it is asked for into
    a parsed object, which costs more than parsing the rest of the message; plain compat32
    returns an ``email.header.Header`` with the bytes already replaced when a header holds
    raw 8-bit bytes. Here a value is always the original text, undecodable bytes kept as
    lone surrogates, and this module decodes encoded words, 8-bit bytes and addresses
    itself, with its own charset fallbacks. Line breaks are removed (unfolding) exactly as
    the modern policy does, so MIME parameters and Date values read the same.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return _unfold(value)


_POLICY = _RawHeaderPolicy()


def _unfold(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


# An RFC 2047 encoded word, found as email.header finds them: =?charset?Q-or-B?text?=
_ENCODED_WORD = re.compile(r"=\?([^?]*?)\?([qQbB])\?(.*?)\?=")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(encoding: str, text: str) -> bytes:
    """The bytes an encoded word's text stands for; ValueError when it cannot be read."""
    data = text.encode("ascii", "surrogateescape")  # real non-ASCII: UnicodeEncodeError
    if encoding in "qQ":
        return _Q_ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), data.replace(b"_", b" "))
    # Base64, as leniently as the email package reads it: fix the padding, then ignore
    # characters outside the alphabet.
    missing = b"==="[: 4 - len(data) % 4] if len(data) % 4 else b""
    with contextlib.suppress(binascii.Error):
        return base64.b64decode(data + missing, validate=True)
    with contextlib.suppress(binascii.Error):
        return base64.b64decode(data, validate=False)
    with contextlib.suppress(binascii.Error):
        return base64.b64decode(data + b"==", validate=False)
    return data  # not base64 at all: the text as it is


def _decode_words(value: str) -> str:
    """A header value as clean text: RFC 2047 encoded words and raw 8-bit bytes decoded,
    each with the charset fallbacks.

    Adjacent encoded words in one charset are joined before decoding, so a character split
    across two words survives; whitespace between encoded words is dropped (RFC 2047). A
    word that cannot be decoded is kept as written.
    """
    if "=?" not in value:
        return clean_text(value)
    pieces: list[str | tuple[bytes, str]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        text = value[position : match.start()]
        position = match.end()
        charset = match.group(1).partition("*")[0]  # drop an RFC 2231 language tag
        try:
            data = _word_bytes(match.group(2), match.group(3))
        except ValueError:
            pieces.append(text + match.group(0))
            continue
        last = pieces[-1] if pieces else None
        if isinstance(last, tuple) and not text.strip(" \t"):
            if last[1].lower() == charset.lower():
                pieces[-1] = (last[0] + data, last[1])
                continue
        elif text:
            pieces.append(text)
        pieces.append((data, charset))
    pieces.append(value[position:])
    return clean_text(
        "".join(
            _fix_surrogates(piece) if isinstance(piece, str) else decode_bytes(*piece)
            for piece in pieces
        )
    )


_PLACEHOLDER = re.compile("\ue000([0-9]+)\ue001")
_PLAUSIBLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\Z")


def _without_comments(value: str) -> str:
    """An address header value without its (comments), which are never part of a name.

    Quoted strings are left alone; with unbalanced quotes or brackets the value is
    returned unchanged for the address parser to make what it can of it.
    """
    if "(" not in value:
        return value
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"' and not depth:
            quoted = True
        elif char == "(":
            depth += 1
            continue
        elif char == ")" and depth:
            depth -= 1
            if not depth:
                out.append(" ")
            continue
        if not depth:
            out.append(char)
    return value if depth or quoted else "".join(out)


def _address_pairs(name: str, value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs in one raw address header value.

    Encoded words are set aside before the value is split, so a comma, bracket or
    parenthesis inside an encoded display name cannot split or cut an address; they are
    decoded afterwards, in display names only.
    """
    words: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        words.append(match.group(0))
        return f"\ue000{len(words) - 1}\ue001"

    def restore(text: str) -> str:
        return _PLACEHOLDER.sub(
            lambda m: words[int(m.group(1))] if int(m.group(1)) < len(words) else m.group(0),
            text,
        )

    protected = _without_comments(_ENCODED_WORD.sub(set_aside, value))
    pairs = [
        (_decode_words(restore(display)), restore(address))
        for display, address in email.utils.getaddresses([protected])
    ]
    found = [address for _, address in pairs if address]
    if any(not _PLAUSIBLE_ADDRESS.match(address) for address in found) or (
        not found and "@" in value
    ):
        # Not mail a client wrote ("a@b c@d", a name without an address), or refused by
        # a stricter getaddresses (Python 3.11.10 and later): the full RFC 5322 parser is
        # slow, but better at recovering what the sender meant.
        with contextlib.suppress(Exception):
            header = email.policy.default.header_factory(name, value)
            recovered = [
                (_decode_words(address.display_name or ""), address.addr_spec or "")
                for address in getattr(header, "addresses", ())
            ]
            return recovered or pairs
    return pairs


class _Headers:
    """A message's headers by lower-cased name, as the sender wrote them but unfolded."""

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._values.setdefault(name.lower(), []).append(_unfold(str(value)))

    def raw(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str:
        """The first value, decoded (encoded words and raw 8-bit bytes) and cleaned."""
        values = self.raw(name)
        return _decode_words(values[0]) if values else ""

    def ids(self, name: str, *, every: bool = False) -> str:
        """A Message-ID, In-Reply-To or References value (every one of them, joined, if
        asked), cleaned but not decoded: RFC 2047 does not apply to IDs, and
        :func:`extract_message_id` must find the same ID in the same message."""
        values = self.raw(name) if every else self.raw(name)[:1]
        return " ".join(clean_text(value) for value in values)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, address) pairs; the address lower-cased, blanks skipped."""
        result = []
        for value in self.raw(name):
            try:
                pairs = _address_pairs(name, value)
            except Exception:  # noqa: S112  (one unreadable header; read the others)
                continue
            for display, address in pairs:
                address = clean_header_text(address).strip("<>").lower()
                if address and address != "<>":
                    result.append((clean_header_text(display), address))
        return result


def _parse_date(headers: _Headers) -> datetime | None:
    values = headers.raw("Date")
    if not values:
        return None
    try:
        value = email.utils.parsedate_to_datetime(values[0])
    except Exception:
        # Raw 8-bit bytes or control characters in it: try again with them decoded.
        try:
            value = email.utils.parsedate_to_datetime(headers.first("Date"))
        except Exception:
            return None
    if value.tzinfo is None:
        # "-0000" and missing zones mean "unknown local time"; UTC is the honest guess.
        value = value.replace(tzinfo=UTC)
    return value


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
    name = clean_header_text(_decode_words(name))
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
        content_id = normalise_message_id(_decode_words(part.get("Content-ID") or "")) or ""
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
            name = _decode_words(part.get_filename() or "")
        except Exception:
            name = ""
        if not name and isinstance(inner, Message):
            try:
                name = _decode_words(inner.get("Subject") or "")
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
                recipient = _decode_words(
                    str(block.get("Final-Recipient") or block.get("Original-Recipient"))
                )
                action = _decode_words(block.get("Action") or "")
                status = _decode_words(block.get("Status") or "")
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
        message = email.message_from_bytes(raw, policy=_POLICY)
    except Exception as exc:  # RecursionError on absurd nesting, parser bugs
        logger.warning("Could not parse an incoming message's structure", exc_info=True)
        parsed = ParsedMail(defects=[f"The message structure could not be read: {exc!r}"])
        parsed.text = clean_text(decode_bytes(raw, None)).strip()
        parsed.trimmed_text = trim_text(parsed.text)
        if not parsed.text:
            raise UnparseableMessage("Nothing readable was found in the message.") from exc
        return parsed

    headers = _Headers(message)
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
    parsed.date = _parse_date(headers)
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
        headers = _Headers(email.message_from_bytes(block, policy=_POLICY))
        senders = headers.addresses("From")
        from_name, from_address = senders[0] if senders else ("", "")
        return HeaderSummary(
            from_name=from_name,
            from_address=from_address,
            to=[address for _, address in headers.addresses("To")],
            subject=clean_header_text(headers.first("Subject")),
            date=_parse_date(headers),
        )
    except Exception:  # a list of mail must still show the rows it cannot read
        logger.warning("Could not read the headers of a stored message", exc_info=True)
        return HeaderSummary(from_name="", from_address="", to=[], subject="", date=None)
