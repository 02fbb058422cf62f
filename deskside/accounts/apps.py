from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People, teams and sign-in."""

    name = "deskside.accounts"
    label = "accounts"
    verbose_name = "People, teams and sign-in"
