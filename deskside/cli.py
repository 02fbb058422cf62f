"""The ``deskside`` command: Django's manage.py with plain-words help and clean errors.

Every problem an operator can cause (a bad setting, an unreachable database, a port in
use, a weak password) ends as one line on stderr and a non-zero exit, never a traceback.
Commands signal such problems by raising :class:`CommandFailed`.
"""

from __future__ import annotations

import os
import sys

HELP = """\
Deskside: an IT service desk.

Usage: deskside COMMAND [options]

Running the desk
  serve          Start the desk: applies updates to the database, then serves the web
                 pages and runs background jobs (http://127.0.0.1:8000 by default).
                 The first start prints a link at which you create the administrator.
  worker         Run background jobs only (start more of these to scale out).
  smtpd          Receive the desk's email from your mail server over SMTP, or LMTP
                 with --lmtp (on 127.0.0.1 by default; see docs/operations.md).
  pollmail       Collect waiting mail from the IMAP mailboxes now (the worker also
                 does this every minute).
  check          Check the configuration for problems.

People
  createadmin    Create an administrator, or make someone one and set their password.
  demo           Fill the desk with realistic example teams, people and tickets.
  token          Create, list or revoke personal API tokens for scripts
                 (for example: token create --user EMAIL --scope read).

Maintenance
  migrate        Apply database updates without starting the desk.
  reindex        Rebuild the search index (after a restore, or if search seems stale).
  coachterms     Show the plain-language coach's dictionary; --sync adds terms new in
                 this version (your own terms and changes are kept).
  help --all     List every other command (all of Django's commands work too).

Run 'deskside COMMAND --help' for a command's options.
Settings come from DESKSIDE_* environment variables; see docs/configuration.md.
"""

# Exit codes: 1 for a problem with the input or the surroundings, 2 for a bad setting.
EXIT_FAILED = 1
EXIT_CONFIG = 2


class CommandFailed(Exception):
    """A problem the person running the command can fix; the message says how.

    Unlike Django's CommandError it is printed without a class name in front.
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else exc.__class__.__name__


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        print(HELP, end="")
        return 0
    if args[:2] == ["help", "--all"]:
        args = ["help"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")

    from django.db import OperationalError

    from deskside.lib.env import ConfigError

    try:
        import django

        # Settings are imported here, so a bad DESKSIDE_* value surfaces as ConfigError.
        django.setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["deskside", *args])
    except ConfigError as exc:
        print(f"deskside: configuration problem: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CommandFailed as exc:
        print(f"deskside: {exc}", file=sys.stderr)
        return exc.exit_code
    except OperationalError as exc:
        print(
            f"deskside: cannot use the database ({_first_line(exc)}). "
            "Check DESKSIDE_DATABASE_URL and that the database server is running.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    return 0
