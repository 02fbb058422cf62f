"""``deskside token``: create, list and revoke personal API tokens from the shell.

For scripts: ``deskside token create`` prints only the token on standard output, so
``TOKEN=$(deskside token create --user ops@example.com --scope read)`` works; what a person
needs to know goes to standard error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from deskside.accounts import services
from deskside.accounts.models import ApiToken, EmailAddress, TokenScope, User, normalise_email
from deskside.cli import CommandFailed

DEFAULT_NAME = "Command line"
# Long enough for any real use; a bigger number is a typo and would overflow the date.
MAX_EXPIRES_DAYS = 3650


def _plain(error: ValidationError) -> str:
    return " ".join(error.messages)


def _person(address: str) -> User:
    email = normalise_email(address)
    record = EmailAddress.objects.select_related("user").filter(email=email).first()
    person = record.user if record is not None else User.objects.filter(email=email).first()
    if person is None:
        raise CommandFailed(f"Nobody has the email address {address!r}. Check the spelling.")
    return person


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = (
        "Create, list or revoke personal API tokens. 'create' prints the new token once; "
        "it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="Create a token and print it (only the token goes to standard output).",
        )
        create.add_argument("--user", required=True, metavar="EMAIL", help="Whose token it is.")
        create.add_argument(
            "--scope",
            required=True,
            choices=TokenScope.values,
            help="read: may only fetch. write: may also make changes.",
        )
        create.add_argument(
            "--name", default=DEFAULT_NAME, help="What will use it, such as 'Monitoring'."
        )
        create.add_argument(
            "--expires-days",
            type=int,
            metavar="N",
            help="Stop working after N days (default: never).",
        )
        listing = actions.add_parser("list", help="List a person's tokens (never the tokens).")
        listing.add_argument("--user", required=True, metavar="EMAIL")
        revoke = actions.add_parser("revoke", help="Stop a token working, at once.")
        revoke.add_argument("--id", required=True, type=int, metavar="N", help="From 'list'.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list(options)
        else:
            self._revoke(options)

    def _create(self, options: dict[str, Any]) -> None:
        person = _person(options["user"])
        if not person.is_active:
            raise CommandFailed(f"{person.email}'s account is switched off; switch it on first.")
        if not person.uses_console:
            # Tokens are for integrations run by IT; requesters use the portal.
            raise CommandFailed(
                f"{person.email} is a requester. API tokens are for IT staff and "
                "administrators; give the integration its own person with the agent role."
            )
        days = options["expires_days"]
        if days is not None and not 1 <= days <= MAX_EXPIRES_DAYS:
            raise CommandFailed(
                f"--expires-days must be between 1 and {MAX_EXPIRES_DAYS}, not {days}."
            )
        expires_at = timezone.now() + timedelta(days=days) if days is not None else None
        try:
            token, raw = services.api_token_create(
                user=person, name=options["name"], scope=options["scope"], expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandFailed(_plain(exc)) from None
        expiry = f"until {_when(expires_at)}" if expires_at else "with no expiry"
        self.stderr.write(
            f"Created {token.scope} token {token.pk} ({token.name!r}) for {person.email}, "
            f"valid {expiry}. Copy it now: it cannot be shown again."
        )
        self.stdout.write(raw)

    def _list(self, options: dict[str, Any]) -> None:
        person = _person(options["user"])
        tokens = ApiToken.objects.filter(user=person).order_by("created_at", "pk")
        if not tokens:
            self.stdout.write(f"{person.email} has no API tokens.")
            return
        self.stdout.write(
            f"{'ID':>6}  {'SCOPE':5}  {'STARTS':12}  {'CREATED':16}  {'LAST USED':16}  NAME"
        )
        for token in tokens:
            self.stdout.write(
                f"{token.pk:>6}  {token.scope:5}  {token.prefix:12}  {_when(token.created_at)}  "
                f"{_when(token.last_used_at):16}  {token.name}"
                + (f"  (expires {_when(token.expires_at)})" if token.expires_at else "")
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
        if token is None:
            raise CommandFailed(
                f"There is no token {options['id']}. 'deskside token list --user EMAIL' "
                "shows the numbers."
            )
        services.api_token_revoke(token=token)
        self.stdout.write(
            f"Revoked token {options['id']} ({token.name!r}) of {token.user.email}. "
            "It no longer works."
        )
