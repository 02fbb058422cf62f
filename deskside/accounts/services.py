"""Writes for people, teams and sign-in. Each is one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connections, router, transaction
from django.db.models import Q
from django.db.models.expressions import Col
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from deskside.accounts.models import (
    CONSOLE_ROLES,
    ApiToken,
    Department,
    EmailAddress,
    Location,
    PhoneKind,
    PhoneNumber,
    Role,
    SetupToken,
    Team,
    TeamMembership,
    TeamTier,
    TechnicalComfort,
    TokenScope,
    User,
    hash_token,
    normalise_email,
)
from deskside.lib.phones import normalise_phone

SETUP_LINK_HOURS = 24


class MagicLinkTokenGenerator(PasswordResetTokenGenerator):
    """Like a password-reset token, it is void once used: signing in changes last_login."""

    key_salt = "deskside.accounts.MagicLinkTokenGenerator"

    def __init__(self) -> None:
        super().__init__()
        self.timeout = settings.MAGIC_LINK_MINUTES * 60


magic_link_tokens = MagicLinkTokenGenerator()


def _check_email_free(email: str, *, owner: User | None = None) -> None:
    clash = EmailAddress.objects.filter(email=email)
    if owner is not None:
        clash = clash.exclude(user=owner)
    users = User.objects.filter(email=email)
    if owner is not None:
        users = users.exclude(pk=owner.pk)
    if clash.exists() or users.exists():
        raise ValidationError(
            _("%(email)s already belongs to someone else. Search for them instead."),
            params={"email": email},
            code="email_taken",
        )


@transaction.atomic
def person_create(
    *,
    email: str,
    full_name: str,
    role: str = Role.REQUESTER,
    password: str | None = None,
    department: Department | None = None,
    location: Location | None = None,
    job_title: str = "",
    is_vip: bool = False,
    technical_comfort: str = TechnicalComfort.STANDARD,
    phones: Iterable[tuple[str, str]] = (),
    other_emails: Iterable[str] = (),
) -> User:
    """Create a person with their primary address, other addresses and phone numbers.

    ``phones`` are ``(number, kind)`` pairs in any common format; they are stored in E.164.
    """
    address = normalise_email(email)
    if not full_name.strip():
        raise ValidationError(_("Please give the person's name."), code="name_required")
    _check_email_free(address)
    if password is not None:
        validate_password(password)
    user = User.objects.create_user(
        address,
        password,
        full_name=full_name.strip(),
        role=role,
        department=department,
        location=location,
        job_title=job_title,
        is_vip=is_vip,
        technical_comfort=technical_comfort,
    )
    for other in other_emails:
        person_add_email(user=user, email=other)
    for number, kind in phones:
        person_add_phone(user=user, number=number, kind=kind)
    return user


@transaction.atomic
def person_add_email(*, user: User, email: str) -> EmailAddress:
    address = normalise_email(email)
    _check_email_free(address, owner=user)
    record, _created = EmailAddress.objects.get_or_create(user=user, email=address)
    return record


@transaction.atomic
def person_add_phone(
    *, user: User, number: str, kind: str = PhoneKind.WORK, extension: str = ""
) -> PhoneNumber:
    e164 = normalise_phone(number)
    record, _created = PhoneNumber.objects.get_or_create(
        user=user, number=e164, defaults={"kind": kind, "extension": extension}
    )
    return record


@transaction.atomic
def person_set_password(*, user: User, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


@transaction.atomic
def team_create(
    *,
    name: str,
    tier: str = TeamTier.SERVICE_DESK,
    lead: User | None = None,
    members: Iterable[User] = (),
    description: str = "",
) -> Team:
    team = Team.objects.create(name=name.strip(), tier=tier, lead=lead, description=description)
    for member in [*members, *([lead] if lead else [])]:
        team_add_member(team=team, user=member)
    return team


@transaction.atomic
def team_add_member(*, team: Team, user: User) -> TeamMembership:
    if user.role not in CONSOLE_ROLES:
        raise ValidationError(
            _("%(name)s is a requester. Make them an agent before adding them to a team."),
            params={"name": user.full_name},
            code="not_an_agent",
        )
    membership, _created = TeamMembership.objects.get_or_create(team=team, user=user)
    return membership


# --- First-run setup ----------------------------------------------------------------------


def admin_exists() -> bool:
    return User.objects.filter(role=Role.ADMIN, is_active=True).exists()


@transaction.atomic
def setup_token_create() -> str:
    """A fresh one-time setup link token. Earlier unused links stop working."""
    SetupToken.objects.all().delete()
    token = secrets.token_urlsafe(32)
    SetupToken.objects.create(
        token_hash=hash_token(token),
        expires_at=timezone.now() + timedelta(hours=SETUP_LINK_HOURS),
    )
    return token


def setup_token_is_valid(token: str) -> bool:
    if admin_exists():
        return False
    return SetupToken.objects.filter(
        token_hash=hash_token(token), expires_at__gt=timezone.now()
    ).exists()


@transaction.atomic
def setup_complete(*, token: str, email: str, full_name: str, password: str) -> User:
    """Create the first administrator from a valid setup link, then void every link."""
    # Lock the token row so two browsers submitting the link at once create one admin.
    found = (
        SetupToken.objects.select_for_update()
        .filter(token_hash=hash_token(token), expires_at__gt=timezone.now())
        .first()
    )
    if found is None or admin_exists():
        raise ValidationError(
            _(
                "This setup link has already been used or has expired. Run 'deskside serve' "
                "again to print a new one, or sign in."
            ),
            code="setup_link_invalid",
        )
    user = person_create(email=email, full_name=full_name, role=Role.ADMIN, password=password)
    SetupToken.objects.all().delete()
    return user


# --- Sign-in links --------------------------------------------------------------------------


def magic_link_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = magic_link_tokens.make_token(user)
    path = reverse("accounts:magic_link_use", kwargs={"uidb64": uid, "token": token})
    return f"{settings.BASE_URL}{path}"


def magic_link_send(*, email: str) -> bool:
    """Email a sign-in link to the requester with this address, if there is one.

    Returns whether a mail was sent; callers must not reveal this to the visitor.
    Desk staff sign in with a password, so they are not sent links.
    """
    address = normalise_email(email)
    record = (
        EmailAddress.objects.select_related("user")
        .filter(email=address, user__is_active=True, user__role=Role.REQUESTER)
        .first()
    )
    if record is None:
        return False
    user = record.user
    context = {
        "user": user,
        "link": magic_link_url(user),
        "minutes": settings.MAGIC_LINK_MINUTES,
    }
    send_mail(
        subject=_("Your sign-in link for the IT help desk"),
        message=render_to_string("accounts/email/magic_link.txt", context),
        from_email=None,
        recipient_list=[address],
    )
    return True


# --- API tokens -----------------------------------------------------------------------------

# A recognisable prefix lets secret scanners and people spot a leaked Deskside token.
API_TOKEN_PREFIX = "dsk_"  # noqa: S105  (a public marker, not a secret)
# Enough to tell tokens apart in a list (fits ApiToken.prefix), far too little to guess the rest.
API_TOKEN_SHOWN_CHARACTERS = 12
# Recording every use would turn a busy integration into a stream of writes; once a minute
# is precise enough to tell whether a token is still in use.
API_TOKEN_TOUCH_SECONDS = 60


class ApiTokenRejected(Exception):
    """A presented API token cannot be used; ``message`` tells the caller what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: str = TokenScope.READ,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; the raw token is returned here once and never stored.

    ``scope`` is ``read`` (the default, so a forgotten choice errs on the safe side) or
    ``write``.
    """
    label = name.strip()
    if scope not in TokenScope.values:
        raise ValidationError({"scope": _("Choose the scope read or write.")}, code="unknown_scope")
    if not label:
        raise ValidationError(
            {"name": _("Say what will use this token, such as 'Monitoring'.")},
            code="name_required",
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(
            {"expires_at": _("Choose an expiry date in the future, or none.")},
            code="expiry_in_past",
        )
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=label,
        token_hash=hash_token(raw),
        prefix=raw[:API_TOKEN_SHOWN_CHARACTERS],
        scope=scope,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    """Stop a token working at once. Only its hash was stored, so nothing is left to leak."""
    token.delete()


def api_token_authenticate(*, raw_token: str) -> User:
    """The active person a raw API token belongs to; raise ApiTokenRejected otherwise."""
    return api_token_check(raw_token=raw_token).user


class _TokenQuery(NamedTuple):
    sql: str
    converters: list[tuple[int, list[Any], Col]]  # (column, converters, expression)
    token_fields: list[str]  # attnames, in the order of the selected columns
    user_fields: list[str]


# Per database alias: the SQL is written once per process (see _token_with_person).
_token_queries: dict[str, _TokenQuery] = {}


def _token_query(using: str) -> _TokenQuery:
    """The token-with-person SELECT for one database and the converters of its columns."""
    found = _token_queries.get(using)
    if found is not None:
        return found
    conn = connections[using]
    quote = conn.ops.quote_name
    token_table, user_table = ApiToken._meta.db_table, User._meta.db_table
    columns = [field.get_col("t") for field in ApiToken._meta.concrete_fields] + [
        field.get_col("u") for field in User._meta.concrete_fields
    ]
    converters = []
    for position, column in enumerate(columns):
        found_converters = conn.ops.get_db_converters(column) + column.get_db_converters(conn)
        if found_converters:
            converters.append((position, found_converters, column))
    user_fk = ApiToken._meta.get_field("user").column
    token_hash = ApiToken._meta.get_field("token_hash").column
    # Only names from the models, quoted by the backend; the hash is a parameter.
    sql = (
        f"SELECT {', '.join(f'{c.alias}.{quote(c.target.column)}' for c in columns)} "  # noqa: S608
        f"FROM {quote(token_table)} t JOIN {quote(user_table)} u "
        f"ON u.{quote(User._meta.pk.column)} = t.{quote(user_fk)} "
        f"WHERE t.{quote(token_hash)} = %s"
    )
    found = _token_queries[using] = _TokenQuery(
        sql,
        converters,
        [field.attname for field in ApiToken._meta.concrete_fields],
        [field.attname for field in User._meta.concrete_fields],
    )
    return found


def _token_with_person(token_hash: str) -> ApiToken | None:
    """The token with this hash and its person, in one statement; None if there is none.

    The same answer as ``ApiToken.objects.select_related("user").get(token_hash=...)``,
    for a third of the work: every API request asks it, and the ORM would build and
    compile that query anew each time (about 60 % of its cost, profiled). So the SQL is
    written once per process from the models' own columns, and each row is converted with
    the converters the ORM itself would apply, then made into instances with ``from_db``.
    Tested against the ORM's answer on SQLite and PostgreSQL (test_api_token_lookup.py).
    """
    using = router.db_for_read(ApiToken)
    query = _token_query(using)
    conn = connections[using]
    with conn.cursor() as cursor:
        cursor.execute(query.sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, converters, expression in query.converters:
        for converter in converters:
            values[position] = converter(values[position], expression, conn)
    split = len(query.token_fields)
    token = ApiToken.from_db(using, query.token_fields, values[:split])
    token.user = User.from_db(using, query.user_fields, values[split:])
    return token


def api_token_check(*, raw_token: str) -> ApiToken:
    """The usable token (with its person) for a raw token; raise ApiTokenRejected otherwise.

    The API needs the token itself, not only its person, to apply its scope and rate limit.
    """
    now = timezone.now()
    token = _token_with_person(hash_token(raw_token))
    if token is None:
        raise ApiTokenRejected(
            _(
                "This API token is not recognised. Check it was copied in full; "
                "if it was revoked, ask an administrator for a new one."
            )
        )
    if token.expires_at is not None and token.expires_at <= now:
        raise ApiTokenRejected(_("This API token has expired. Ask an administrator for a new one."))
    if not token.user.is_active:
        raise ApiTokenRejected(
            _("The account this API token belongs to is switched off. Ask an administrator.")
        )
    stale_before = now - timedelta(seconds=API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at < stale_before:
        # Conditional, so simultaneous requests with one token make one write between them.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before)
        ).update(last_used_at=now)
    return token


# --- Administrators -------------------------------------------------------------------------


@transaction.atomic
def person_make_admin(*, user: User) -> None:
    """Make an existing person an active administrator (used by 'deskside createadmin')."""
    user.role = Role.ADMIN
    user.is_active = True
    user.save(update_fields=["role", "is_active"])
