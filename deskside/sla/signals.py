"""Any edit to a policy, a calendar or a ladder makes every process reload them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from deskside.sla.models import (
    BusinessCalendar,
    CalendarException,
    EscalationRule,
    EscalationStep,
    Holiday,
    SlaPolicy,
    WorkingPeriod,
)
from deskside.sla.services import sla_policies_changed

WATCHED = (
    BusinessCalendar,
    CalendarException,
    EscalationRule,
    EscalationStep,
    Holiday,
    SlaPolicy,
    WorkingPeriod,
)


def _changed(**kwargs: Any) -> None:
    # The version moves in the edit's own transaction: other processes see both together.
    sla_policies_changed()


def connect() -> None:
    for model in WATCHED:
        post_save.connect(_changed, sender=model, dispatch_uid=f"sla-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"sla-{model.__name__}-delete")
    for field in ("categories", "teams", "departments"):
        through = getattr(SlaPolicy, field).through
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"sla-policy-{field}")
    m2m_changed.connect(
        _changed, sender=EscalationRule.categories.through, dispatch_uid="sla-rule-categories"
    )
