"""``deskside demo``: fill the desk with realistic example data to try it out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from deskside.cli import CommandFailed
from deskside.demo import DEMO_PASSWORD, DemoContext, populate_all
from deskside.system.services import database_update


class Command(BaseCommand):
    help = (
        "Fill the desk with a realistic example company: departments, offices, an IT "
        "service desk and specialist teams with agents and team leads, an IT manager, an "
        "executive, an administrator and about forty staff. Running it again adds nothing "
        "twice. Demo accounts share one published password: never use them on a desk that "
        "holds real data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help="The password every demo account gets (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"]
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandFailed(f"That password cannot be used: {' '.join(exc.messages)}") from None

        applied = database_update()
        if applied:
            self.stdout.write(f"Database: applied {applied} updates.")

        ctx = populate_all(DemoContext(password=password))

        added = [f"{count} {what}" for what, count in ctx.created.items() if count]
        if added:
            self.stdout.write("Demo data added: " + ", ".join(added) + ".")
        else:
            self.stdout.write("The demo data was already there; nothing new was added.")
        login_url = settings.BASE_URL + reverse(settings.LOGIN_URL)
        self.stdout.write(f"\nSign in at {login_url} with the password: {password}")
        width = max((len(who) for who, _email in ctx.sign_ins), default=0)
        for who, email in ctx.sign_ins:
            self.stdout.write(f"  {who.ljust(width)}  {email}")
        self.stdout.write(
            self.style.WARNING(
                "\nEvery demo account has this published password. Never use demo accounts "
                "on a desk that holds real data."
            )
        )
