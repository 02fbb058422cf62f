"""Signed reply tokens: proof that a mail really came from Deskside about one ticket.

A token looks like ``1042.3f9c0a7d5e1b2c4d6a8e0f12``: the ticket number, a dot, and the
first 96 bits of an HMAC-SHA256 (from :mod:`django.core.signing`, salted for this one
purpose) written in lowercase hex. It travels in the Message-ID of every mail Deskside
sends, so a reply's In-Reply-To or References carries it back.

Why not ``Signer.sign()`` as it stands: its 43-character mixed-case signature is long for
a Message-ID and some mail systems change the case of what they pass along. Hex is short
and survives that; 96 bits is far beyond guessing, since every guess costs an email.
Keys in ``SECRET_KEY_FALLBACKS`` are still accepted, so rotating the secret key does not
cut old conversations off.
"""

from __future__ import annotations

import hmac
import re

from django.core import signing

_SALT = "deskside.mail.reply-token"
_MAC_HEX_CHARS = 24  # 96 bits
_TOKEN = re.compile(rf"([1-9][0-9]{{0,17}})\.([0-9a-f]{{{_MAC_HEX_CHARS}}})")
# Bounded before the regular expression sees it, so junk of any size is cheap to reject.
_MAX_TOKEN_LENGTH = 64


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, algorithm="sha256")


def _mac(ticket_id: int, key: str | bytes) -> str:
    signature = _signer().signature(str(ticket_id), key=key)
    return signing.b64_decode(signature.encode()).hex()[:_MAC_HEX_CHARS]


def ticket_reply_token(ticket_id: int) -> str:
    """A short token, safe in a Message-ID or an address, tying a mail to ``ticket_id``."""
    if ticket_id <= 0:
        raise ValueError("A reply token needs a saved ticket's number.")
    return f"{ticket_id}.{_mac(ticket_id, _signer().key)}"


def ticket_from_reply_token(token: object) -> int | None:
    """The ticket number ``token`` was signed for, or None if it is not a valid token.

    Never raises: tokens arrive in mail from anyone, and junk is simply not a token.
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    found = _TOKEN.fullmatch(token.strip().lower())
    if found is None:
        return None
    ticket_id = int(found[1])
    signer = _signer()
    for key in (signer.key, *signer.fallback_keys):
        if hmac.compare_digest(_mac(ticket_id, key), found[2]):
            return ticket_id
    return None
