"""Reading header values: charsets, encoded words, addresses, Message-IDs and dates.

What :mod:`deskside.mail.parsing` builds on, and what the intake needs before a message
is parsed at all (its Message-ID, from the header block only). The same rules hold: never
raise on bad input, every charset problem degrades to readable text, and every value is
cleaned of control characters before it goes anywhere near the database.
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
import re
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING

logger = logging.getLogger(__name__)

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
        return unfold(value)


RAW_HEADER_POLICY = _RawHeaderPolicy()


def unfold(value: str) -> str:
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


def decode_words(value: str) -> str:
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
        (decode_words(restore(display)), restore(address))
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
                (decode_words(address.display_name or ""), address.addr_spec or "")
                for address in getattr(header, "addresses", ())
            ]
            return recovered or pairs
    return pairs


class Headers:
    """A message's headers by lower-cased name, as the sender wrote them but unfolded."""

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._values.setdefault(name.lower(), []).append(unfold(str(value)))

    def raw(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str:
        """The first value, decoded (encoded words and raw 8-bit bytes) and cleaned."""
        values = self.raw(name)
        return decode_words(values[0]) if values else ""

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


def parse_date(headers: Headers) -> datetime | None:
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
