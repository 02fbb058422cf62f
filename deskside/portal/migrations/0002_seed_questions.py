"""Seed a few example intake questions; administrators edit or remove them."""

from __future__ import annotations

from django.db import migrations

QUESTIONS = [
    # category, question, hint, kind, choices
    (
        "Printing",
        "Which printer?",
        "The name is on a label on the front, e.g. FIN-2F-01.",
        "text",
        "",
    ),
    (
        "Network/VPN",
        "Where are you working from?",
        "",
        "choice",
        "In the office\nAt home\nSomewhere else",
    ),
    (
        "Hardware",
        "Asset tag of the device",
        "The sticker with a barcode, if there is one.",
        "text",
        "",
    ),
    ("Accounts and passwords", "Can you still sign in to your computer?", "", "yes_no", ""),
]


def seed(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    IntakeQuestion = apps.get_model("portal", "IntakeQuestion")
    for position, (category_name, label, hint, kind, choices) in enumerate(QUESTIONS):
        category = Category.objects.filter(name=category_name).first()
        if category is None:
            continue
        IntakeQuestion.objects.get_or_create(
            category=category,
            label=label,
            defaults={"help_text": hint, "kind": kind, "choices": choices, "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("tickets", "0002_seed_catalogue")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
