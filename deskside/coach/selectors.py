"""Reads for the coach's report: how plain each team's replies were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, Sum
from django.utils import timezone

from deskside.accounts import permissions
from deskside.accounts.models import Team, User
from deskside.coach.models import SentReading

REPORT_PERIODS = (7, 30, 90, 365)


@dataclass(frozen=True)
class TeamReading:
    """One row of the report: a team's replies over the period."""

    team: str
    replies: int
    graded: int  # replies long enough to be given a reading grade
    grade: float | None
    applied: int
    warnings: int

    @property
    def acceptance(self) -> int | None:
        """Suggestions applied out of all made, as a whole percentage; None if none made."""
        made = self.applied + self.warnings
        return round(100 * self.applied / made) if made else None


def reading_report(user: User, *, days: int = 30) -> tuple[list[TeamReading], TeamReading]:
    """Each team's replies in the last ``days`` days that ``user`` may see, and the total.

    Averages count only replies long enough to be graded; a two-word "Thanks, done!"
    has no meaningful reading grade.
    """
    since = timezone.now() - timedelta(days=days)
    rows = permissions.visible(user, SentReading).filter(sent_at__gte=since)
    names = dict(Team.objects.values_list("id", "name"))
    grouped = (
        rows.values("team_id")
        .annotate(
            replies=Count("id"),
            graded=Count("grade"),
            grade=Avg("grade"),
            applied=Sum("applied"),
            warnings=Sum("warnings"),
        )
        .order_by()
    )
    teams = [
        TeamReading(
            team=names.get(row["team_id"], "") if row["team_id"] else "",
            replies=row["replies"],
            graded=row["graded"],
            grade=row["grade"],
            applied=row["applied"] or 0,
            warnings=row["warnings"] or 0,
        )
        for row in grouped
    ]
    teams.sort(key=lambda row: (row.team == "", row.team.lower()))
    total = rows.aggregate(
        replies=Count("id"),
        graded=Count("grade"),
        grade=Avg("grade"),
        applied=Sum("applied"),
        warnings=Sum("warnings"),
    )
    return teams, TeamReading(
        team="",
        replies=total["replies"],
        graded=total["graded"],
        grade=total["grade"],
        applied=total["applied"] or 0,
        warnings=total["warnings"] or 0,
    )
