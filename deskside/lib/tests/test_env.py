from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deskside.lib.env import ConfigError, Env, parse_database_url


def test_typed_readers() -> None:
    env = Env(
        {
            "DESKSIDE_DEBUG": "yes",
            "DESKSIDE_WORKERS": " 4 ",
            "DESKSIDE_HOSTS": "a.example, b.example,,",
            "DESKSIDE_URL": "https://help.example.com/",
        }
    )
    assert env.flag("DEBUG", False) is True
    assert env.flag("MISSING", False) is False
    assert env.integer("WORKERS", 1) == 4
    assert env.csv("HOSTS", []) == ["a.example", "b.example"]
    assert env.url("URL", "http://x") == "https://help.example.com"


@pytest.mark.parametrize(
    ("variable", "value", "reader", "message"),
    [
        (
            "DEBUG",
            "maybe",
            lambda e: e.flag("DEBUG", False),
            "DESKSIDE_DEBUG must be true or false",
        ),
        ("PORT", "eighty", lambda e: e.integer("PORT", 1), "DESKSIDE_PORT must be a whole number"),
        ("PORT", "0", lambda e: e.integer("PORT", 1, minimum=1), "must be at least 1"),
        ("URL", "help.example.com", lambda e: e.url("URL", "http://x"), "full web address"),
        ("MODE", "loud", lambda e: e.choice("MODE", "a", ("a", "b")), "must be one of a, b"),
    ],
)
def test_bad_values_name_the_variable(
    variable: str, value: str, reader: Callable[[Env], object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        reader(Env({f"DESKSIDE_{variable}": value}))


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret-value\n")
    env = Env({"DESKSIDE_EMAIL_PASSWORD_FILE": str(secret)})
    assert env.optional("EMAIL_PASSWORD") == "s3cret-value"


def test_secret_file_missing_or_doubly_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        Env({"DESKSIDE_X_FILE": str(tmp_path / "nope")}).raw("X")
    with pytest.raises(ConfigError, match="both set"):
        Env({"DESKSIDE_X": "a", "DESKSIDE_X_FILE": "b"}).raw("X")


def test_database_urls() -> None:
    sqlite = parse_database_url("sqlite:////srv/desk/deskside.db")
    assert (sqlite.engine, sqlite.name) == ("sqlite", "/srv/desk/deskside.db")
    pg = parse_database_url("postgresql://desk:p%40ss@db.internal:6432/deskside?sslmode=require")
    assert pg.engine == "postgresql"
    assert (pg.user, pg.password, pg.host, pg.port, pg.name) == (
        "desk",
        "p@ss",
        "db.internal",
        "6432",
        "deskside",
    )
    assert dict(pg.options) == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x/y", "must start with sqlite:// or postgresql://"),
        ("postgresql://host:5432/", "needs a database name"),
        ("postgresql://host:port/db", "port that is not a number"),
        ("sqlite://", "needs a file path"),
    ],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_database_url(url)
