"""Django settings for the django-helpdesk 2.6.1 peer in Deskside's benchmarks.

This is "the script that configures it": the whole peer project is this file,
``peer_urls.py`` and ``peer_wsgi.py``, run from a virtualenv under ``.bench/peer/``
that ``bench/peer/driver.py`` creates from PyPI. Nothing of django-helpdesk itself is
committed.

Configured from the environment by the driver:

- ``PEER_DATABASE``: ``postgresql`` or ``sqlite``;
- ``PEER_PG_SERVER`` and ``PEER_DB_NAME``: the PostgreSQL server URL and database;
- ``PEER_DATA_DIR``: where the SQLite file, uploaded attachments and logs live.

Choices that bear on fairness, each the same as Deskside's own production settings or
the peer's default (see bench/peer/README in the driver's docstring):

- ``DEBUG = False``; served by gunicorn, gthread, 2 workers x 4 threads, like
  ``deskside serve``.
- PostgreSQL: persistent connections for 60 s with health checks (Deskside's default).
- SQLite: the same connection options as Deskside (WAL, synchronous=NORMAL, IMMEDIATE
  transactions, 20 s busy timeout). Django's defaults would make the peer fail with
  "database is locked" under 16 concurrent writers, which is not what is measured.
- Cache: Django's default local-memory cache (the peer asks for nothing else).
- Mail: the dummy backend. The peer renders and "sends" its notifications inside the
  request (or the command); the dummy backend keeps the rendering and drops the SMTP
  round trip, which would otherwise measure the mail server.
- API: DRF with token authentication added (``rest_framework.authtoken``), besides the
  session and HTTP Basic authentication DRF enables by default. HTTP Basic would hash
  the password (PBKDF2, a million iterations) on every request, which no integration
  should pay and Deskside's bearer tokens do not.
- Teams mode off (``HELPDESK_TEAMS_MODE_ENABLED = False``): it needs the optional
  pinax-teams package, and teams play no part in the measured workloads.
- Attachments on (the peer's default), stored under ``PEER_DATA_DIR/media``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA_DIR = Path(os.environ.get("PEER_DATA_DIR", "/tmp/deskside-bench-peer"))  # noqa: S108
DATABASE = os.environ.get("PEER_DATABASE", "postgresql")
DATABASES: dict[str, dict[str, Any]]

SECRET_KEY = "bench-peer-not-secret-" + "x" * 40  # a local benchmark only
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if DATABASE == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "peer.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
elif DATABASE == "postgresql":
    _server = urlsplit(os.environ.get("PEER_PG_SERVER", "postgresql://postgres@127.0.0.1:5432"))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PEER_DB_NAME", "bench_peer"),
            "USER": _server.username or "postgres",
            "PASSWORD": _server.password or "",
            "HOST": _server.hostname or "127.0.0.1",
            "PORT": str(_server.port or 5432),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    raise RuntimeError(f"PEER_DATABASE must be postgresql or sqlite, not {DATABASE!r}")

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SITE_ID = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = str(DATA_DIR / "media")

LOGIN_URL = "helpdesk:login"
LOGIN_REDIRECT_URL = "helpdesk:list"

EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@bench.peer.test"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}

HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True  # the default in 2.6.1; said here so the intent is plain

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
