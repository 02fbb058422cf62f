"""Phone numbers in one form (E.164), so a caller's number matches the person's record."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as +<country><number>, or raise ValidationError in plain words.

    Numbers written without a country code are read as belonging to ``region``
    (default ``DESKSIDE_PHONE_REGION``).
    """
    text = raw.strip()
    try:
        parsed = phonenumbers.parse(text, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("%(number)s does not look like a phone number. Check the digits and try again."),
            params={"number": text or _("An empty value")},
            code="invalid_phone",
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(
            _(
                "%(number)s has the wrong number of digits. "
                "Include the country code (for example +44) if it is abroad."
            ),
            params={"number": text},
            code="invalid_phone",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A number as people read it (international format with spaces)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
