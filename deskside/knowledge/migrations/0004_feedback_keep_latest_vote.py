"""Before "one answer per person" (0005): keep each person's latest answer per article.

Earlier answers by the same person are deleted and the article's helpful yes/no counters
are reduced by exactly what those answers had added, so the counts match the answers kept.
Answers whose author was deleted (no person) are left alone: they still count.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count, F


def keep_latest_vote(apps: Any, schema_editor: Any) -> None:
    feedback = apps.get_model("knowledge", "ArticleFeedback")
    article_model = apps.get_model("knowledge", "Article")
    repeated = (
        feedback.objects.filter(user__isnull=False)
        .values("article_id", "user_id")
        .annotate(answers=Count("id"))
        .filter(answers__gt=1)
    )
    for pair in repeated.iterator():
        answers = list(
            feedback.objects.filter(article_id=pair["article_id"], user_id=pair["user_id"])
            .order_by("-created_at", "-id")
            .values_list("id", "helpful")
        )
        earlier = answers[1:]
        yes = sum(1 for _, helpful in earlier if helpful)
        no = len(earlier) - yes
        feedback.objects.filter(id__in=[pk for pk, _ in earlier]).delete()
        article = article_model.objects.filter(pk=pair["article_id"])
        # Never below zero, even if an administrator edited the counters by hand.
        article.filter(helpful_yes__gte=yes).update(helpful_yes=F("helpful_yes") - yes)
        article.filter(helpful_yes__lt=yes).update(helpful_yes=0)
        article.filter(helpful_no__gte=no).update(helpful_no=F("helpful_no") - no)
        article.filter(helpful_no__lt=no).update(helpful_no=0)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_article_deflections"),
    ]

    operations = [
        migrations.RunPython(keep_latest_vote, migrations.RunPython.noop, elidable=True),
    ]
