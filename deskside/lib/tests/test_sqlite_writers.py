"""Writers on a SQLite file take turns through a lock file beside the database."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from deskside.lib.sqlite.base import DatabaseWrapper


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Iterator[None]:
    # These tests open SQLite files of their own, beside (not instead of) the test database.
    with django_db_blocker.unblock():
        yield


def file_database(path: Path, **options: Any) -> DatabaseWrapper:
    """A connection to a SQLite file of its own, set up as Deskside's settings set it up."""
    settings = connections.configure_settings(
        {
            "default": {
                "ENGINE": "deskside.lib.sqlite",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, **options},
            }
        }
    )["default"]
    return DatabaseWrapper(settings, alias=f"writers-{path.name}")


@pytest.fixture
def desk_file(tmp_path: Path) -> Iterator[DatabaseWrapper]:
    wrapper = file_database(tmp_path / "desk.sqlite3")
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (body TEXT)")
    yield wrapper
    wrapper.close()


def held_by_someone(path: str) -> bool:
    """Whether another writer holds the lock (tried from a descriptor of our own)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_lock_until_it_commits(
    desk_file: DatabaseWrapper,
) -> None:
    lock = f"{desk_file.settings_dict['NAME']}-writers.lock"
    desk_file._start_transaction_under_autocommit()
    with desk_file.cursor() as cursor:
        cursor.execute("INSERT INTO notes VALUES ('kept')")
    assert held_by_someone(lock)
    desk_file.commit()
    assert not held_by_someone(lock)


def test_a_rolled_back_or_closed_transaction_lets_go(desk_file: DatabaseWrapper) -> None:
    lock = f"{desk_file.settings_dict['NAME']}-writers.lock"
    desk_file._start_transaction_under_autocommit()
    assert held_by_someone(lock)
    desk_file.rollback()
    assert not held_by_someone(lock)
    desk_file._start_transaction_under_autocommit()
    desk_file.close()
    assert not held_by_someone(lock)


def test_two_writers_on_one_file_both_commit_in_turn(tmp_path: Path) -> None:
    """No deadlock between the lock file and SQLite's own lock (the holding itself is
    checked above): the second writer goes once the first has committed."""
    first = file_database(tmp_path / "desk.sqlite3")
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (body TEXT)")
    first._start_transaction_under_autocommit()
    started = threading.Event()
    order: list[str] = []

    def second_writer() -> None:
        second = file_database(tmp_path / "desk.sqlite3")
        second.ensure_connection()
        started.set()
        second._start_transaction_under_autocommit()  # waits for the first to commit
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO notes VALUES ('second')")
        second.commit()
        order.append("second")
        second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    started.wait()
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO notes VALUES ('first')")
    order.append("first")
    first.commit()
    thread.join(timeout=30)
    assert order == ["first", "second"]
    with first.cursor() as cursor:
        cursor.execute("SELECT body FROM notes ORDER BY rowid")
        assert [row[0] for row in cursor.fetchall()] == ["first", "second"]
    first.close()


def test_a_lock_held_too_long_does_not_stop_the_writer(tmp_path: Path) -> None:
    """Past the timeout SQLite's own locking decides, as it would without the lock file."""
    path = tmp_path / "desk.sqlite3"
    wrapper = file_database(path, timeout=0.05)
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (body TEXT)")
    stuck = os.open(f"{path}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(stuck, fcntl.LOCK_EX)  # a writer that never lets go of the lock file
    try:
        wrapper._start_transaction_under_autocommit()
        with wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO notes VALUES ('went ahead')")
        wrapper.commit()
    finally:
        os.close(stuck)
        wrapper.close()
    check = file_database(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT body FROM notes")
        assert cursor.fetchall() == [("went ahead",)]
    check.close()
