"""Demo data: every app may add its own, and 'deskside demo' runs them all.

An app adds demo data by having a ``demo`` module (``deskside/<app>/demo.py``) with::

    def populate(ctx: DemoContext) -> None: ...

Only Deskside's own apps are asked. The modules run in INSTALLED_APPS order, so the
tickets app finds the people the accounts app created in ``ctx.people``. Each
``populate`` must be idempotent: running the command twice must not create anything twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import transaction

if TYPE_CHECKING:
    from deskside.accounts.models import User

# Published in docs/cli.md, so anyone trying the demo can sign in. It is not a secret.
DEMO_PASSWORD = "try-the-demo-desk"  # noqa: S105

Populate = Callable[["DemoContext"], None]


@dataclass
class DemoContext:
    """What demo modules share while they run."""

    password: str
    # People by role in the story ("admin", "agent", "requester", ...), for later apps.
    people: dict[str, User] = field(default_factory=dict)
    # (who, email) pairs printed at the end, so the reader knows whom to sign in as.
    sign_ins: list[tuple[str, str]] = field(default_factory=list)
    # How many of each thing were added this run ("people", "teams", ...).
    created: Counter[str] = field(default_factory=Counter)


def demo_modules() -> list[ModuleType]:
    """Every Deskside app's ``demo`` module, in INSTALLED_APPS order."""
    found = []
    for app_config in apps.get_app_configs():
        # Third-party apps may have a module called "demo" that means something else.
        if not app_config.name.startswith("deskside."):
            continue
        name = f"{app_config.name}.demo"
        try:
            found.append(import_module(name))
        except ModuleNotFoundError as exc:
            # Only "this app has no demo module" is skipped; a broken import is an error.
            if exc.name != name:
                raise
    return found


def populate_all(ctx: DemoContext) -> DemoContext:
    """Run every app's demo data in one transaction, so a failure leaves nothing half-made."""
    with transaction.atomic():
        for module in demo_modules():
            populate: Populate = module.populate
            populate(ctx)
    return ctx
