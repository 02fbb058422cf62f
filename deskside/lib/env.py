"""Typed readers for ``DESKSIDE_*`` settings.

Every reader fails loudly with :class:`ConfigError`, naming the variable and what was
expected, so a typo stops start-up with one clear line instead of a surprise later.
Secrets may be given as ``NAME_FILE`` pointing at a file holding the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PREFIX = "DESKSIDE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A setting has a value Deskside cannot use; the message says which and why."""


class Env:
    """Reads settings from a mapping (normally ``os.environ`` merged with ``.env``)."""

    def __init__(self, source: Mapping[str, str] | None = None) -> None:
        self.source: Mapping[str, str] = os.environ if source is None else source

    def raw(self, name: str) -> str | None:
        """The value of ``DESKSIDE_<name>``, or of the file named by ``..._FILE``."""
        key = PREFIX + name
        value = self.source.get(key)
        file_key = key + "_FILE"
        file_name = self.source.get(file_key)
        if value is not None and file_name is not None:
            raise ConfigError(f"{key} and {file_key} are both set; set only one of them.")
        if file_name is not None:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{file_key} points at {file_name!r}, which cannot be read ({exc.strerror})."
                ) from exc
        return value

    def string(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def optional(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value is None or value.strip() == "" else value.strip()

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{PREFIX}{name} must be true or false, not {value!r}.")

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ConfigError(f"{PREFIX}{name} must be a whole number, not {value!r}.") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{PREFIX}{name} must be at least {minimum}, not {number}.")
        return number

    def csv(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(name, default).strip().lower()
        if value not in choices:
            raise ConfigError(f"{PREFIX}{name} must be one of {', '.join(choices)}, not {value!r}.")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.string(name, default).strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                f"{PREFIX}{name} must be a full web address such as https://help.example.com, "
                f"not {value!r}."
            )
        return value


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``DESKSIDE_DATABASE_URL``."""

    engine: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()


def parse_database_url(value: str, *, variable: str = "DESKSIDE_DATABASE_URL") -> DatabaseURL:
    """Parse ``sqlite:///path`` or ``postgresql://user:pass@host:port/name?opt=val``."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as in other Django tools.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ConfigError(f"{variable} needs a file path, for example sqlite:////srv/desk.db.")
        return DatabaseURL(engine="sqlite", name=path)
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError(
                f"{variable} needs a database name, for example "
                "postgresql://deskside@127.0.0.1:5432/deskside."
            )
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ConfigError(f"{variable} has a port that is not a number.") from None
        return DatabaseURL(
            engine="postgresql",
            name=name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=port,
            options=tuple(parse_qsl(parts.query)),
        )
    raise ConfigError(
        f"{variable} must start with sqlite:// or postgresql://, not {value.split(':', 1)[0]!r}."
    )
