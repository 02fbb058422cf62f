"""'deskside createadmin': from a pipe, a file or a terminal; weak passwords explained."""

from __future__ import annotations

import getpass
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from deskside.accounts.models import Role, User
from deskside.cli import CommandFailed
from deskside.system.tests.processes import run_deskside
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

GOOD = "the kettle is always on"


class Terminal(io.StringIO):
    """Standard input as a person at a keyboard has it."""

    def isatty(self) -> bool:
        return True


def createadmin(*args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("createadmin", *args, stdin=stdin or io.StringIO(""), stdout=out)
    return out.getvalue()


def test_password_from_standard_input() -> None:
    said = createadmin("--email", "Grace.Hopper@Example.com", stdin=io.StringIO(GOOD + "\n"))
    admin = User.objects.get(email="grace.hopper@example.com")
    assert admin.role == Role.ADMIN
    assert admin.full_name == "Grace Hopper"
    assert admin.check_password(GOOD)
    assert "Created the administrator Grace Hopper (grace.hopper@example.com)" in said


def test_password_from_a_file_and_a_given_name(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(GOOD + "\nignored second line\n")
    createadmin(
        "--email", "ops@example.com", "--name", "Desk Operations", "--password-file", str(secret)
    )
    admin = User.objects.get(email="ops@example.com")
    assert admin.full_name == "Desk Operations"
    assert admin.check_password(GOOD)


def test_an_existing_person_is_made_an_administrator(personas: Personas) -> None:
    said = createadmin("--email", "ADA@example.com", stdin=io.StringIO(GOOD))
    ada = User.objects.get(pk=personas.requester.pk)
    assert ada.role == Role.ADMIN
    assert ada.check_password(GOOD)
    assert ada.full_name == "Ada Requester"
    assert "is now an administrator" in said
    assert User.objects.filter(email="ada@example.com").count() == 1


def test_a_weak_password_is_refused_in_plain_words(personas: Personas) -> None:
    with pytest.raises(CommandFailed, match="too short") as caught:
        createadmin("--email", "new@example.com", stdin=io.StringIO("short\n"))
    assert "That password cannot be used" in str(caught.value)
    assert not User.objects.filter(email="new@example.com").exists()
    # Someone existing keeps their role and password when the new one is refused.
    with pytest.raises(CommandFailed, match="too common"):
        createadmin("--email", "ada@example.com", stdin=io.StringIO("password123\n"))
    ada = User.objects.get(pk=personas.requester.pk)
    assert ada.role == Role.REQUESTER
    assert not ada.check_password("password123")


def test_a_password_like_the_name_is_refused() -> None:
    with pytest.raises(CommandFailed, match="too similar"):
        createadmin("--email", "margaretha@example.com", stdin=io.StringIO("margaretha\n"))


def test_at_a_terminal_the_password_is_asked_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([GOOD, GOOD + " typo"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandFailed, match="The two passwords are different"):
        createadmin("--email", "tty@example.com", stdin=Terminal())
    assert not User.objects.filter(email="tty@example.com").exists()

    answers = iter([GOOD, GOOD])
    createadmin("--email", "tty@example.com", stdin=Terminal())
    assert User.objects.get(email="tty@example.com").is_admin


def test_bad_input_is_explained() -> None:
    with pytest.raises(CommandFailed, match="is not an email address"):
        createadmin("--email", "not-an-address", stdin=io.StringIO(GOOD))
    with pytest.raises(CommandFailed, match="No password was given"):
        createadmin("--email", "empty@example.com", stdin=io.StringIO(""))
    with pytest.raises(CommandFailed, match="Cannot read the password file"):
        createadmin("--email", "file@example.com", "--password-file", "/no/such/file")


def test_the_real_command_reads_a_pipe(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # A fresh data directory: createadmin sets up the database itself.
    made = run_deskside(data, "createadmin", "--email", "root@example.com", stdin=GOOD + "\n")
    assert made.returncode == 0, made.stderr
    assert "Created the administrator" in made.stdout

    weak = run_deskside(data, "createadmin", "--email", "root@example.com", stdin="12345\n")
    assert weak.returncode == 1
    [line] = weak.stderr.splitlines()
    assert line.startswith("deskside: That password cannot be used: This password is too short.")
