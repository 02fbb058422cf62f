"""Portal test set-up: attachments go to a throwaway folder, never the real data directory."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _private_files(settings: Settings, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def catalogue(transactional_db: None) -> None:
    """The statuses, priorities, topics and questions the migrations seed.

    A live-server test empties every table when it ends, seeds included, so a browser test
    that follows another one puts them back (the seeding is idempotent).
    """
    for module in ("deskside.tickets.migrations.0002_seed_catalogue",
                   "deskside.portal.migrations.0002_seed_questions"):  # fmt: skip
        import_module(module).seed(apps, None)
