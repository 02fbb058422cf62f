"""The email channel's models: what came in (inbound) and what went out (outbound)."""

from __future__ import annotations

from deskside.mail.models.inbound import *  # noqa: F403
from deskside.mail.models.outbound import *  # noqa: F403
