"""What search reads: one row of searchable text per ticket."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TicketDocument(models.Model):
    """The searchable text of one ticket, rebuilt by ``index_ticket`` after every change.

    The database turns these columns into the real index (migration 0001): on SQLite an
    FTS5 table that reads this one as its content and is kept in step by triggers; on
    PostgreSQL a generated, weighted ``tsvector`` column with a GIN index. Internal notes
    have a column of their own so a requester can never match on them.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    subject = models.TextField()
    requester_name = models.TextField()
    public_text = models.TextField(blank=True)
    note_text = models.TextField(blank=True)
    indexed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"search document of #{self.ticket_id}"
