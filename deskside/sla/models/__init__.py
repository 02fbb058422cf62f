"""Service-level models: calendars and policies with each ticket's clocks (``core``), and
the escalation ladder (``escalation``)."""

from __future__ import annotations

from deskside.sla.models.core import *  # noqa: F403  (the public names are listed there)
from deskside.sla.models.core import __all__ as _core_names
from deskside.sla.models.escalation import *  # noqa: F403  (the public names are listed there)
from deskside.sla.models.escalation import __all__ as _escalation_names

__all__ = [*_core_names, *_escalation_names]
