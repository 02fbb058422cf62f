"""Answers remembered for one unit of work, and only inside it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from deskside.system.memo import memo_clear, memo_forget, memo_open, memo_scope, memo_set, memoized
from deskside.system.services import config_version, config_version_bump


def counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def read() -> int:
        calls.append(1)
        return len(calls)

    return calls, read


def test_outside_a_scope_every_call_reads() -> None:
    _calls, read = counter()
    assert [memoized("k", read), memoized("k", read)] == [1, 2]
    assert not memo_open()
    memo_set("k", 99)  # nothing to record it in
    assert memoized("k", read) == 3


def test_inside_a_scope_each_key_is_read_once_and_forgotten_on_request() -> None:
    _calls, read = counter()
    with memo_scope():
        assert memo_open()
        assert [memoized("a", read), memoized("a", read)] == [1, 1]
        assert memoized("b", read) == 2
        memo_forget("a")
        assert memoized("a", read) == 3
        memo_set("a", 42)
        assert memoized("a", read) == 42
        memo_clear()
        assert memoized("a", read) == 4
    assert not memo_open()
    assert memoized("a", read) == 5


def test_a_nested_scope_shares_the_outer_one() -> None:
    calls, read = counter()
    with memo_scope():
        memoized("a", read)
        with memo_scope():
            assert memoized("a", read) == 1
        assert memo_open()
    assert len(calls) == 1


def test_a_scope_belongs_to_its_thread() -> None:
    seen: list[bool] = []
    with memo_scope():
        thread = threading.Thread(target=lambda: seen.append(memo_open()))
        thread.start()
        thread.join()
    assert seen == [False]


@pytest.mark.django_db
def test_a_configuration_bump_is_seen_inside_the_same_scope() -> None:
    with memo_scope():
        before = config_version("memo-test")
        config_version_bump("memo-test")
        assert config_version("memo-test") == before + 1
