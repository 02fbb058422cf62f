"""Load the shipped jargon.json into the Term table, keeping each entry's id as its key.

Only keys not yet present are added, so running this again (or after
``deskside coachterms --sync``) never duplicates a term or undoes an administrator's edit.
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from deskside.coach.dictionary import load_raw, validate_entries


def load_shipped_terms(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    term_model: Any = apps.get_model("coach", "Term")
    raw = load_raw()
    problems = validate_entries(raw)
    if problems:
        raise ValueError("Invalid jargon dictionary:\n" + "\n".join(problems))
    existing = set(term_model.objects.values_list("key", flat=True))
    term_model.objects.bulk_create(
        [
            term_model(
                key=item["id"],
                term=item["term"],
                kind=item["kind"],
                variants=list(item.get("variants", [])),
                case_sensitive=bool(item.get("case_sensitive", False)),
                expansion=item.get("expansion") or "",
                plain=list(item["plain"]),
                explanation=item["explanation"],
                severity=item["severity"],
                tags=list(item.get("tags", [])),
                enabled=True,
                source="shipped",
            )
            for item in raw
            if item["id"] not in existing
        ],
        ignore_conflicts=True,
    )


def unload_shipped_terms(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("coach", "Term").objects.filter(source="shipped").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coach", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_shipped_terms, unload_shipped_terms),
    ]
