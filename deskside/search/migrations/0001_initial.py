"""The ticket search table, and the full-text index each database builds from it.

SQLite: an FTS5 table using ``search_ticketdocument`` as its external content, kept in
step by triggers, so Django's own writes (and test flushes) update the index.
PostgreSQL: a text search configuration ``deskside_search`` (``simple`` plus
``unaccent`` when the server allows that extension), a generated weighted ``tsvector``
column and a GIN index on it.

A later migration that alters ``search_ticketdocument`` on SQLite rebuilds the table and
drops the triggers with it; such a migration must run ``SQLITE_TRIGGERS`` again.
"""

from __future__ import annotations

import logging
from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models, transaction

logger = logging.getLogger("deskside.search")

COLUMNS = "subject, requester_name, public_text, note_text"

SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE search_ticket_fts USING fts5({COLUMNS}, "
    "content='search_ticketdocument', content_rowid='ticket_id', "
    "tokenize='unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = [
    """CREATE TRIGGER search_ticketdocument_ai AFTER INSERT ON search_ticketdocument BEGIN
        INSERT INTO search_ticket_fts(rowid, subject, requester_name, public_text, note_text)
        VALUES (new.ticket_id, new.subject, new.requester_name, new.public_text, new.note_text);
    END""",
    """CREATE TRIGGER search_ticketdocument_ad AFTER DELETE ON search_ticketdocument BEGIN
        INSERT INTO search_ticket_fts(
            search_ticket_fts, rowid, subject, requester_name, public_text, note_text
        ) VALUES (
            'delete', old.ticket_id, old.subject, old.requester_name, old.public_text,
            old.note_text
        );
    END""",
    """CREATE TRIGGER search_ticketdocument_au AFTER UPDATE ON search_ticketdocument BEGIN
        INSERT INTO search_ticket_fts(
            search_ticket_fts, rowid, subject, requester_name, public_text, note_text
        ) VALUES (
            'delete', old.ticket_id, old.subject, old.requester_name, old.public_text,
            old.note_text
        );
        INSERT INTO search_ticket_fts(rowid, subject, requester_name, public_text, note_text)
        VALUES (new.ticket_id, new.subject, new.requester_name, new.public_text, new.note_text);
    END""",
]

# Weights: A subject, B requester's name, C public replies, D internal notes. Requesters
# are matched against A-C only (ts_filter), so one column and one index serve everyone.
PG_DOCUMENT = """
ALTER TABLE search_ticketdocument ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('deskside_search'::regconfig, subject), 'A')
    || setweight(to_tsvector('deskside_search'::regconfig, requester_name), 'B')
    || setweight(to_tsvector('deskside_search'::regconfig, public_text), 'C')
    || setweight(to_tsvector('deskside_search'::regconfig, note_text), 'D')
) STORED
"""
# The texts and the tsvector move out of line (TOAST), so the table itself stays a narrow
# list of ids that the GIN index's matches are read from: on 300,000 tickets this made a
# common word's search several times faster. Ranking then unpacks only the candidates.
PG_STORAGE = "ALTER TABLE search_ticketdocument SET (toast_tuple_target = 128)"
PG_INDEX = (
    "CREATE INDEX search_ticketdocument_document ON search_ticketdocument USING gin (document)"
)


def _postgres_config(cursor: Any, alias: str) -> None:
    cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = 'deskside_search'")
    if cursor.fetchone():
        return
    cursor.execute("CREATE TEXT SEARCH CONFIGURATION deskside_search (COPY = simple)")
    try:
        # A savepoint, so a server that refuses the extension leaves the migration usable.
        with transaction.atomic(using=alias):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            cursor.execute(
                "ALTER TEXT SEARCH CONFIGURATION deskside_search "
                "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
            )
    except Exception:  # any refusal means: carry on without accent folding
        logger.warning(
            "The unaccent extension is not available; search will treat 'cafe' and 'café' "
            "as different words. A database administrator can run CREATE EXTENSION unaccent "
            "and then 'deskside migrate search zero && deskside migrate && deskside reindex'."
        )


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(SQLITE_TABLE)
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            _postgres_config(cursor, connection.alias)
            cursor.execute(PG_DOCUMENT)
            cursor.execute(PG_STORAGE)
            cursor.execute(PG_INDEX)


def backwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER IF EXISTS search_ticketdocument_{name}")
            cursor.execute("DROP TABLE IF EXISTS search_ticket_fts")
        elif connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS search_ticketdocument_document")
            cursor.execute("ALTER TABLE search_ticketdocument DROP COLUMN IF EXISTS document")
            cursor.execute("ALTER TABLE search_ticketdocument RESET (toast_tuple_target)")
            cursor.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS deskside_search")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketDocument",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("subject", models.TextField()),
                ("requester_name", models.TextField()),
                ("public_text", models.TextField(blank=True)),
                ("note_text", models.TextField(blank=True)),
                ("indexed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
