"""The default status of each kind, kept per process until a status is edited.

Every new ticket, reply, reopening, resolution and closing asks which status of a kind is
the default. Each process keeps the answers until the statuses' version moves: a
``statuses`` row in ``system.ConfigVersion``, bumped in the same transaction as any status
edit (by deskside/tickets/signals.py), as the SLA policies and the coach's dictionary are
kept. A process that sees the new version sees the edit too.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from deskside.system.services import config_version, config_version_bump
from deskside.tickets.models import Status, StatusKind

STATUSES_CONFIG = "statuses"
_default_statuses: dict[str, tuple[int, Status | None]] = {}


def statuses_changed() -> None:
    """Record an edit to the statuses (inside its transaction) and drop this process's copy."""
    _default_statuses.clear()
    config_version_bump(STATUSES_CONFIG)


def default_status(kind: str) -> Status:
    """The status a ticket of ``kind`` gets when nobody chose one (a copy, so no caller
    can change the kept one)."""
    version = config_version(STATUSES_CONFIG)
    kept = _default_statuses.get(kind)
    if kept is None or kept[0] != version:
        kept = _default_statuses[kind] = (version, _read_default_status(kind))
    status = kept[1]
    if status is None:
        label = StatusKind(kind).label if kind in StatusKind.values else kind
        raise ValidationError(
            _(
                "This can't be saved because the desk has no “%(kind)s” status set up. "
                "Please ask an IT administrator to add one."
            ),
            params={"kind": label},
        )
    return copy.copy(status)


def _read_default_status(kind: str) -> Status | None:
    status = Status.objects.filter(kind=kind, is_default_for_kind=True).first()
    if status is None:
        status = Status.objects.filter(kind=kind).order_by("position").first()
    return status
