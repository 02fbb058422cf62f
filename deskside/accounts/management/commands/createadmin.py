"""``deskside createadmin``: create an administrator, or make someone one, from the shell.

For installs done by scripts, where nobody opens the first-run setup link, and for the
day an administrator forgets their password.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from deskside.accounts import services
from deskside.accounts.models import EmailAddress, Role, User, normalise_email
from deskside.cli import CommandFailed
from deskside.system.services import database_update


def _plain(error: ValidationError) -> str:
    return " ".join(error.messages)


def _name_from_email(address: str) -> str:
    local = address.split("@", 1)[0]
    words = local.replace(".", " ").replace("_", " ").replace("-", " ").split()
    return " ".join(word.capitalize() for word in words) or local


def _first_line(text: str) -> str:
    lines = text.splitlines()
    return lines[0] if lines else ""


class Command(BaseCommand):
    help = (
        "Create an administrator with the given email address. If someone already has that "
        "address, they are made an administrator and their password is replaced. The "
        "password is read from --password-file, else from the first line of standard "
        "input when it is not a terminal, else asked for twice."
    )
    # Lets tests pass their own standard input through call_command.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--email", required=True, metavar="ADDRESS", help="Their email address (sign-in)."
        )
        parser.add_argument(
            "--name",
            default="",
            help=(
                "Their full name, for a new person (default: made from the email address). "
                "An existing person keeps their name."
            ),
        )
        parser.add_argument(
            "--password-file",
            metavar="PATH",
            help="Read the password from the first line of this file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        address = normalise_email(options["email"])
        try:
            validate_email(address)
        except ValidationError:
            raise CommandFailed(f"{options['email']!r} is not an email address.") from None
        stdin: TextIO = options.get("stdin") or sys.stdin
        password = self._read_password(options["password_file"], stdin)

        applied = database_update()
        if applied:
            self.stdout.write(f"Database: applied {applied} updates.")

        login_url = settings.BASE_URL + reverse(settings.LOGIN_URL)
        existing = self._find(address)
        if existing is not None:
            was_admin = existing.is_admin
            try:
                # Both changes or neither, so a failure never leaves half an administrator.
                with transaction.atomic():
                    services.person_set_password(user=existing, password=password)
                    services.person_make_admin(user=existing)
            except ValidationError as exc:
                raise CommandFailed(f"That password cannot be used: {_plain(exc)}") from None
            change = "was already an administrator" if was_admin else "is now an administrator"
            self.stdout.write(
                f"{existing.full_name} ({existing.email}) {change}, and their password has "
                f"been changed. Sign in at {login_url}"
            )
            return

        full_name = options["name"].strip() or _name_from_email(address)
        try:
            # Checked against the name and address too, so "grace@..." cannot use "grace1234".
            validate_password(password, User(email=address, full_name=full_name))
        except ValidationError as exc:
            raise CommandFailed(f"That password cannot be used: {_plain(exc)}") from None
        try:
            user = services.person_create(
                email=address, full_name=full_name, role=Role.ADMIN, password=password
            )
        except ValidationError as exc:
            raise CommandFailed(_plain(exc)) from None
        self.stdout.write(
            f"Created the administrator {user.full_name} ({user.email}). Sign in at {login_url}"
        )

    def _read_password(self, password_file: str | None, stdin: TextIO) -> str:
        if password_file:
            try:
                password = _first_line(Path(password_file).read_text(encoding="utf-8"))
            except OSError as exc:
                raise CommandFailed(
                    f"Cannot read the password file {password_file!r} ({exc.strerror})."
                ) from None
            except UnicodeDecodeError:
                raise CommandFailed(
                    f"The password file {password_file!r} is not a text file."
                ) from None
            if not password:
                raise CommandFailed(f"The first line of {password_file!r} is empty.")
            return password
        if not stdin.isatty():
            # One line only: the stream may stay open after it (a pipe from a script).
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandFailed(
                    "No password was given: put it on the first line of standard input, "
                    "or use --password-file."
                )
            return password
        password = getpass.getpass("Password: ")
        if not password:
            raise CommandFailed("No password was given. Nothing was changed.")
        if getpass.getpass("Password again: ") != password:
            raise CommandFailed("The two passwords are different. Nothing was changed.")
        return password

    @staticmethod
    def _find(address: str) -> User | None:
        record = EmailAddress.objects.select_related("user").filter(email=address).first()
        if record is not None:
            return record.user
        return User.objects.filter(email=address).first()
