"""The full-text index over help articles, built the same way as the ticket index.

SQLite: an FTS5 table reading ``knowledge_articledocument`` as its external content,
kept in step by triggers. PostgreSQL: a generated weighted ``tsvector`` column on that
table with a GIN index, using the ``deskside_search`` configuration that
``search.0001_initial`` creates.

A later migration that alters ``knowledge_articledocument`` on SQLite rebuilds the table
and drops the triggers with it; such a migration must run ``SQLITE_TRIGGERS`` again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMNS = "title, summary, body, tags"
NEW = "new.article_id, new.title, new.summary, new.body, new.tags"
OLD = "old.article_id, old.title, old.summary, old.body, old.tags"

SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE knowledge_article_fts USING fts5({COLUMNS}, "
    "content='knowledge_articledocument', content_rowid='article_id', "
    "tokenize='unicode61 remove_diacritics 2')"
)
# The ``noqa: S608`` below: these statements are built only from this module's constants.
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER knowledge_articledocument_ai AFTER INSERT ON knowledge_articledocument
    BEGIN
        INSERT INTO knowledge_article_fts(rowid, {COLUMNS}) VALUES ({NEW});
    END""",  # noqa: S608
    f"""CREATE TRIGGER knowledge_articledocument_ad AFTER DELETE ON knowledge_articledocument
    BEGIN
        INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, {COLUMNS})
        VALUES ('delete', {OLD});
    END""",  # noqa: S608
    f"""CREATE TRIGGER knowledge_articledocument_au AFTER UPDATE ON knowledge_articledocument
    BEGIN
        INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, {COLUMNS})
        VALUES ('delete', {OLD});
        INSERT INTO knowledge_article_fts(rowid, {COLUMNS}) VALUES ({NEW});
    END""",  # noqa: S608
]

# Weights: A title, B summary and tags, C body.
PG_DOCUMENT = """
ALTER TABLE knowledge_articledocument ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('deskside_search'::regconfig, title), 'A')
    || setweight(to_tsvector('deskside_search'::regconfig, summary), 'B')
    || setweight(to_tsvector('deskside_search'::regconfig, tags), 'B')
    || setweight(to_tsvector('deskside_search'::regconfig, body), 'C')
) STORED
"""
PG_INDEX = (
    "CREATE INDEX knowledge_articledocument_document "
    "ON knowledge_articledocument USING gin (document)"
)


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(SQLITE_TABLE)
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute(PG_DOCUMENT)
            cursor.execute(PG_INDEX)


def backwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER IF EXISTS knowledge_articledocument_{name}")
            cursor.execute("DROP TABLE IF EXISTS knowledge_article_fts")
        elif connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS knowledge_articledocument_document")
            cursor.execute("ALTER TABLE knowledge_articledocument DROP COLUMN IF EXISTS document")


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_initial"),
        # The PostgreSQL text search configuration is created there.
        ("search", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
