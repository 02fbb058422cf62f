"""The coach's dictionary in the database, so each organisation can add and switch off terms."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from deskside.coach.dictionary import Entry


class TermKind(models.TextChoices):
    JARGON = "jargon", _("Jargon")
    ACRONYM = "acronym", _("Acronym")
    HARD_WORD = "hard_word", _("Hard word")


class TermSeverity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")


class TermSource(models.TextChoices):
    SHIPPED = "shipped", _("Shipped with Deskside")
    LOCAL = "local", _("Added here")


class Term(models.Model):
    """One word or short form the coach points out, with the plain words to use instead.

    Shipped terms are loaded from ``deskside/coach/data/jargon.json`` by a migration (and
    ``deskside coachterms --sync`` after an upgrade), keeping the file's id as ``key``.
    Administrators edit them, switch them off with ``enabled``, and add their own
    (``source`` "local"). Only enabled terms reach the coach.
    """

    key = models.SlugField(
        _("key"),
        max_length=64,
        unique=True,
        help_text=_("A short unique name for this term, such as 'vpn' or 'shared-mailbox'."),
    )
    term = models.CharField(_("term"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=TermKind.choices)
    variants = models.JSONField(
        _("other spellings"),
        default=list,
        blank=True,
        help_text=_('Other spellings that mean the same, as a list: ["e-mail", "E-mail"].'),
    )
    case_sensitive = models.BooleanField(
        _("capitals matter"),
        default=False,
        help_text=_("Tick when only this exact use of capitals counts (AD, not ad)."),
    )
    expansion = models.CharField(
        _("stands for"),
        max_length=200,
        blank=True,
        help_text=_("For an acronym only: what the letters stand for."),
    )
    plain = models.JSONField(
        _("plain alternatives"),
        default=list,
        help_text=_('Everyday words to use instead, as a list: ["office connection"].'),
    )
    explanation = models.CharField(
        _("explanation"),
        max_length=300,
        help_text=_("One line a non-technical colleague would understand."),
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=TermSeverity.choices, default=TermSeverity.WARNING
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True, db_index=True)
    source = models.CharField(
        _("source"), max_length=16, choices=TermSource.choices, default=TermSource.LOCAL
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["term", "key"]
        verbose_name = _("coach term")
        verbose_name_plural = _("coach terms")

    def __str__(self) -> str:
        return self.term

    def as_raw(self) -> dict[str, Any]:
        """This term in the shape of a ``jargon.json`` entry, for the dictionary's checks."""
        return {
            "id": self.key,
            "term": self.term,
            "kind": self.kind,
            "variants": list(self.variants or []),
            "case_sensitive": self.case_sensitive,
            "expansion": self.expansion,
            "plain": list(self.plain or []),
            "explanation": self.explanation,
            "severity": self.severity,
            "tags": list(self.tags or []),
        }

    def as_entry(self) -> Entry:
        return Entry(
            id=self.key,
            term=self.term,
            kind=self.kind,
            variants=tuple(str(v) for v in self.variants or ()),
            case_sensitive=self.case_sensitive,
            expansion=self.expansion,
            plain=tuple(str(p) for p in self.plain or ()),
            explanation=self.explanation,
            severity=self.severity,
            tags=tuple(str(t) for t in self.tags or ()),
        )


class SentReading(models.Model):
    """How plain one reply the requester received was, recorded as it was sent.

    Every public reply written by IT staff (console, API or email) gets one row, so the
    coach's report can show each team's average reading grade. ``applied`` counts the
    coach's suggestions the writer applied in the composer before sending, and
    ``warnings`` the ones still in the text when it went; together they give how often
    suggestions are accepted.
    """

    message = models.OneToOneField(
        "tickets.Message", on_delete=models.CASCADE, related_name="reading"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(db_index=True)
    grade = models.FloatField(null=True, blank=True)
    words = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["team", "sent_at"], name="coach_reading_team_sent")]

    def __str__(self) -> str:
        return f"reading of message {self.message_id}"
