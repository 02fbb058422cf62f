"""Seed the default statuses, priority descriptions and service catalogue."""

from __future__ import annotations

from django.db import migrations

STATUSES = [
    # name, kind, what the requester sees, default for its kind, position
    ("New", "new", "We've received it", True, 10),
    ("Open", "open", "IT is working on it", True, 20),
    ("Waiting on requester", "waiting_requester", "Waiting for you", True, 30),
    ("Waiting on supplier", "waiting_third_party", "Waiting for another company", True, 40),
    ("Resolved", "resolved", "Fixed", True, 50),
    ("Closed", "closed", "Closed", True, 60),
]

PRIORITIES = [
    (
        1,
        "Business-critical",
        "Many people cannot work, or money, customers or safety are at risk right now.",
    ),
    (2, "High", "You, or a few people, cannot do an important part of your work."),
    (3, "Normal", "Something is wrong or slow, but you can work around it."),
    (4, "Low", "A question, a request, or something that can wait."),
]

CATEGORIES = [
    ("Email", "Sending, receiving, mailboxes, calendars"),
    ("Accounts and passwords", "Signing in, locked accounts, new starters, access"),
    ("Printing", "Printers, scanning, paper jams"),
    ("Hardware", "Laptops, screens, keyboards, docking stations"),
    ("Network/VPN", "Wi-Fi, internet, connecting from home"),
    ("Software", "Installing or fixing programs"),
    ("Phones", "Desk phones, mobiles, voicemail"),
    ("Other", "Anything else"),
]


def seed(apps, schema_editor):
    Status = apps.get_model("tickets", "Status")
    PriorityLevel = apps.get_model("tickets", "PriorityLevel")
    Category = apps.get_model("tickets", "Category")
    for name, kind, label, default, position in STATUSES:
        Status.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "requester_label": label,
                "is_default_for_kind": default,
                "position": position,
            },
        )
    for priority, name, description in PRIORITIES:
        PriorityLevel.objects.get_or_create(
            priority=priority, defaults={"name": name, "description": description}
        )
    for position, (name, description) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
