"""Deskside's one settings file.

Everything an operator sets comes from ``DESKSIDE_*`` environment variables, optionally
read from a ``.env`` file in the working directory (real environment variables win).
Each is documented in docs/configuration.md. A bad value raises ConfigError, which the
``deskside`` command turns into one clear line and a non-zero exit.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_stubs_ext
import phonenumbers
from dotenv import dotenv_values

from deskside.lib.env import ConfigError, Env, parse_database_url

# Lets admin and queryset classes be subscripted at run time, as the type checker wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent


def _load_env() -> Env:
    env_file = Path(os.environ.get("DESKSIDE_ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return Env(merged)


env = _load_env()

# --- Data directory -------------------------------------------------------------------
DATA_DIR = Path(env.string("DATA_DIR", "./deskside-data")).expanduser().resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ConfigError(
        f"DESKSIDE_DATA_DIR {str(DATA_DIR)!r} cannot be created ({exc.strerror}). "
        "Choose a folder Deskside may write to."
    ) from exc
if not os.access(DATA_DIR, os.W_OK):
    raise ConfigError(
        f"DESKSIDE_DATA_DIR {str(DATA_DIR)!r} is not writable. "
        "Fix its permissions or choose another folder."
    )


def _secret_key() -> str:
    given = env.optional("SECRET_KEY")
    if given is not None:
        if len(given) < 32:
            raise ConfigError("DESKSIDE_SECRET_KEY must be at least 32 characters long.")
        return given
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # O_EXCL so two processes starting together cannot both write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(50))
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env.flag("DEBUG", False)

# --- Addresses ------------------------------------------------------------------------
BASE_URL = env.url("BASE_URL", "http://127.0.0.1:8000")
_base = urlsplit(BASE_URL)
ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", [_base.hostname or "127.0.0.1", "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
if env.flag("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_https = _base.scheme == "https"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and env.flag("REDIRECT_TO_HTTPS", True)
SECURE_HSTS_SECONDS = env.integer("HSTS_SECONDS", 0, minimum=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.integer("SESSION_HOURS", 12, minimum=1) * 3600
# The console's ticket pages are used all day; keep the session alive while in use.
SESSION_SAVE_EVERY_REQUEST = False
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    # Listed so the API docs page serves Swagger UI from ninja's static files, not a CDN.
    "ninja",
    "deskside.accounts",
    "deskside.system",
    "deskside.tickets",
    "deskside.search",
    "deskside.mail",
    "deskside.sla",
    "deskside.coach",
    "deskside.knowledge",
    "deskside.portal",
    "deskside.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "deskside.urls"
WSGI_APPLICATION = "deskside.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deskside.accounts.context_processors.deskside",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
_db = parse_database_url(
    env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'deskside.sqlite3'}"),
)
DATABASES: dict[str, dict[str, Any]]
if _db.engine == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "deskside.lib.sqlite",
            "NAME": _db.name,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue politely
                # instead of one failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            # Opening a SQLite connection costs about 2 ms (the pragmas above and Django's
            # own set-up), more than a typical request's queries: reuse it, as on PostgreSQL.
            "CONN_MAX_AGE": env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _db.name,
            "USER": _db.user,
            "PASSWORD": _db.password,
            "HOST": _db.host,
            "PORT": _db.port,
            "CONN_MAX_AGE": env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": dict(_db.options),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and background jobs --------------------------------------------------
REDIS_URL = env.optional("REDIS_URL")
if REDIS_URL is not None and urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ConfigError("DESKSIDE_REDIS_URL must start with redis://, rediss:// or unix://.")

CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "deskside",
        }
    }
else:
    # Shared by every web and worker process on the machine, unlike the local-memory cache,
    # so who is looking at a ticket is seen across gunicorn workers. (Rate limits count in
    # their own table without Redis: deskside/system/ratelimit.py.)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "deskside_cache",
        }
    }

HUEY: dict[str, Any] = {
    "name": "deskside",
    "immediate": env.flag("JOBS_IMMEDIATE", False),
    "utc": True,
    "consumer": {
        "workers": env.integer("WORKER_THREADS", 2, minimum=1),
        "worker_type": "thread",
        "check_worker_health": True,
        "health_check_interval": 10,
    },
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.PriorityRedisHuey", "url": REDIS_URL})
else:
    HUEY.update(
        {
            "huey_class": "deskside.system.jobs.DesksideSqliteHuey",
            "filename": str(DATA_DIR / "jobs.sqlite3"),
        }
    )

# The health check calls the job queue stale when its heartbeat is older than this.
HEARTBEAT_MAX_AGE_SECONDS = env.integer("HEARTBEAT_MAX_AGE_SECONDS", 180, minimum=30)
HEALTH_MIN_FREE_DISK_MB = env.integer("HEALTH_MIN_FREE_DISK_MB", 500, minimum=0)

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600
MAGIC_LINK_MINUTES = env.integer("MAGIC_LINK_MINUTES", 15, minimum=1)
LOGIN_ATTEMPTS_PER_WINDOW = env.integer("LOGIN_ATTEMPTS", 10, minimum=1)
LOGIN_WINDOW_SECONDS = env.integer("LOGIN_WINDOW_SECONDS", 900, minimum=10)
DEFAULT_PHONE_REGION = env.string("PHONE_REGION", "US").upper()
if DEFAULT_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ConfigError(
        "DESKSIDE_PHONE_REGION must be a two-letter country code such as GB or US, "
        f"not {DEFAULT_PHONE_REGION!r}."
    )

# --- REST API -------------------------------------------------------------------------
# Requests per minute allowed to each API token, counted in the shared cache so the limit
# holds across every web process. Browser sessions are not limited here.
API_RATE_LIMIT = env.integer("API_RATE_LIMIT", 600, minimum=1)

# --- Email ----------------------------------------------------------------------------
EMAIL_HOST = env.optional("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _security = env.choice("EMAIL_SECURITY", "starttls", ("none", "starttls", "tls"))
    EMAIL_PORT = env.integer("EMAIL_PORT", {"none": 25, "starttls": 587, "tls": 465}[_security])
    EMAIL_USE_TLS = _security == "starttls"
    EMAIL_USE_SSL = _security == "tls"
    EMAIL_HOST_USER = env.string("EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = env.string("EMAIL_PASSWORD", "")
    EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 30, minimum=1)
else:
    # No mail server configured: mail is written to the log so a small install still works.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.string(
    "EMAIL_FROM", f"Deskside <deskside@{_base.hostname or 'localhost'}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = env.string("LANGUAGE", "en")
TIME_ZONE = env.string("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ConfigError(
        f"DESKSIDE_TIME_ZONE must be a time zone name such as Europe/Paris, not {TIME_ZONE!r}."
    ) from None
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from here; creating it early avoids a warning before collectstatic runs.
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "files"

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "huey": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL},
        # aiosmtpd (under 'deskside smtpd') logs every command line a client sends.
        "mail.log": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL},
    },
}

# --- Email channel --------------------------------------------------------------------
# Larger inbound messages are kept (nothing is lost) but not imported.
MAIL_MAX_MESSAGE_MB = env.integer("MAIL_MAX_MESSAGE_MB", 25, minimum=1)
# Automatic mails one address may receive per hour before further ones are held back.
MAIL_AUTO_LIMIT_PER_HOUR = env.integer("MAIL_AUTO_LIMIT_PER_HOUR", 20, minimum=1)
# IMAP polling: messages collected per mailbox per poll (the rest wait for the next
# minute's poll), and seconds to wait for each answer from the IMAP server.
MAIL_IMAP_BATCH = env.integer("MAIL_IMAP_BATCH", 100, minimum=1)
MAIL_IMAP_TIMEOUT = env.integer("MAIL_IMAP_TIMEOUT", 30, minimum=1)
# Where 'deskside smtpd' listens unless --host, --port, --lmtp or --smtp say otherwise.
# This machine only by default: the listener has no login, so only the mail server should
# reach it.
MAIL_LISTEN_HOST = env.string("MAIL_LISTEN_HOST", "127.0.0.1").strip()
MAIL_LISTEN_PROTOCOL = env.choice("MAIL_LISTEN_PROTOCOL", "smtp", ("smtp", "lmtp"))
# None: the protocol's own default (2525 for SMTP, 2424 for LMTP).
MAIL_LISTEN_PORT: int | None = None
if env.optional("MAIL_LISTEN_PORT") is not None:
    MAIL_LISTEN_PORT = env.integer("MAIL_LISTEN_PORT", 0, minimum=1)
    if MAIL_LISTEN_PORT > 65535:
        raise ConfigError(
            f"DESKSIDE_MAIL_LISTEN_PORT must be a port number up to 65535, not {MAIL_LISTEN_PORT}."
        )

# --- Agent console --------------------------------------------------------------------
# How often an open queue asks for new tickets; lower means fresher queues and more requests.
CONSOLE_POLL_SECONDS = env.integer("CONSOLE_POLL_SECONDS", 15, minimum=1)

# --- Branding -------------------------------------------------------------------------
DESK_NAME = env.string("DESK_NAME", "IT Help Desk")
