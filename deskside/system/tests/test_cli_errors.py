"""Bad input ends in one plain line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from django.core.management import get_commands

from deskside.cli import HELP, main
from deskside.system.tests.processes import run_deskside


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = run_deskside(tmp_path / "data", "serve", DESKSIDE_DEBUG="maybe")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "deskside: configuration problem: DESKSIDE_DEBUG must be true or false, not 'maybe'."
    ]


def test_an_uncreatable_data_directory_is_explained(tmp_path: Path) -> None:
    # Tests run as root, who may write anywhere; a folder inside a file cannot exist at all.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_deskside(blocker / "data", "migrate", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("deskside: configuration problem: DESKSIDE_DATA_DIR ")
    assert "cannot be created" in line


def test_an_unreachable_database_is_explained(tmp_path: Path) -> None:
    result = run_deskside(
        tmp_path / "data",
        "migrate",
        DESKSIDE_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x",
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("deskside: cannot use the database (")
    assert line.endswith("Check DESKSIDE_DATABASE_URL and that the database server is running.")


def test_migrate_sets_up_the_whole_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_deskside(data, "migrate")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(data / "deskside.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    # The cache table comes from the system app's post_migrate step, not a migration.
    assert {"deskside_cache", "accounts_user", "system_heartbeat"} <= tables


def test_help_lists_every_command_and_each_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert capsys.readouterr().out == HELP
    listed = {
        line.split()[0]
        for line in HELP.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    }
    assert {"serve", "worker", "createadmin", "demo", "migrate", "check"} <= listed
    assert listed - {"help"} <= set(get_commands())
