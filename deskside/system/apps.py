from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def create_cache_table(sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Create the database cache's table, so plain 'deskside migrate' is a complete set-up.

    Login rate limits live in the cache; without its table every sign-in would fail.
    Does nothing when the cache is Redis, and nothing when the table already exists.
    """
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class SystemConfig(AppConfig):
    """Running the desk."""

    name = "deskside.system"
    label = "system"
    verbose_name = "Running the desk"

    def ready(self) -> None:
        # sender=self: post_migrate is sent once per app, and the table is needed once.
        post_migrate.connect(
            create_cache_table, sender=self, dispatch_uid="deskside.system.create_cache_table"
        )
