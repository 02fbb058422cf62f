"""The ``deskside`` command: Django's manage.py with plain-words help and clean errors."""

from __future__ import annotations

import os
import sys

HELP = """\
Deskside: an IT service desk.

Usage: deskside COMMAND [options]

Running the desk
  serve          Start the desk: applies updates to the database, then serves the web
                 pages and runs background jobs (http://127.0.0.1:8000 by default).
  worker         Run background jobs only (start more of these to scale out).
  check          Check the configuration for problems.

People
  createadmin    Create an administrator (or reset one's password).
  demo           Fill the desk with realistic example teams, agents and requesters.

Maintenance
  migrate        Apply database updates without starting the desk.
  help --all     List every other command (all of Django's commands work too).

Run 'deskside COMMAND --help' for a command's options.
Settings come from DESKSIDE_* environment variables; see docs/configuration.md.
"""


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

        django.setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["deskside", *args])
    except ConfigError as exc:
        print(f"deskside: configuration problem: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        print(
            f"deskside: cannot use the database ({reason}). "
            "Check DESKSIDE_DATABASE_URL and that the database server is running.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
