"""Help articles that answer common questions, with their history and readers' feedback."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    """Who an article is written for."""

    PUBLIC = "public", _("Everyone")
    INTERNAL = "internal", _("IT staff only")


class ArticleState(models.TextChoices):
    """Where an article is in its life: only published articles reach requesters."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ArticleCategory(models.Model):
    """A group of articles shown together in the portal, such as "Email" or "Printing"."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = _("article categories")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """One help article, written in Markdown and shown as sanitised HTML.

    ``body_html`` is rendered once, by the services, whenever the body changes, so pages
    never render Markdown per view. ``views`` and the helpfulness counts are only ever
    changed with ``F()`` updates, so simultaneous readers do not lose counts.
    """

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    body_html = models.TextField(blank=True, editable=False)
    category = models.ForeignKey(
        ArticleCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    tags = models.JSONField(default=list, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    state = models.CharField(
        max_length=10, choices=ArticleState.choices, default=ArticleState.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles_owned",
    )
    review_by = models.DateField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    views = models.PositiveIntegerField(default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(default=0, editable=False)
    helpful_no = models.PositiveIntegerField(default=0, editable=False)
    # Requests not made because this article, suggested on the new-request form, solved it.
    deflections = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-published_at", "-updated_at"]
        indexes = [models.Index(fields=["state", "visibility", "-published_at"])]

    def __str__(self) -> str:
        return self.title


class ArticleRevision(models.Model):
    """The article's words as one save left them: the history of every edit."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.edited_at:%Y-%m-%d %H:%M})"


class ArticleFeedback(models.Model):
    """A reader's answer to "Was this helpful?", with an optional comment for the owner."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One answer per person: answering again replaces the earlier answer (see
            # services.article_feedback_record). Feedback whose author was deleted keeps
            # counting, so rows without a person are not limited.
            models.UniqueConstraint(
                fields=["article", "user"],
                condition=models.Q(user__isnull=False),
                name="knowledge_feedback_one_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{'yes' if self.helpful else 'no'} on {self.article_id}"


class TicketArticle(models.Model):
    """A help article that answered a ticket, or (``source``) one that was drafted from it.

    An article's "helped N tickets" is the number of these rows. A ticket has at most one
    source article, so "Turn into a help article" never drafts the same answer twice.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="article_links"
    )
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)
    source = models.BooleanField(
        default=False, help_text=_("The article was drafted from this ticket's resolution.")
    )

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article"], name="knowledge_ticket_article"),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(source=True),
                name="knowledge_one_source_article_per_ticket",
            ),
        ]
        indexes = [models.Index(fields=["article", "ticket"], name="knowledge_article_tickets")]

    def __str__(self) -> str:
        return f"article {self.article_id} on #{self.ticket_id}"


class ArticleDocument(models.Model):
    """The searchable text of one article, rebuilt by ``index_article`` after each change.

    As for tickets (see ``deskside.search``), the database builds the real index from it
    (migration 0002): an FTS5 table kept in step by triggers on SQLite, a generated
    weighted ``tsvector`` with a GIN index on PostgreSQL. It is a table of its own so a
    view count update never touches the index.
    """

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    title = models.TextField()
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    tags = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"search document of article {self.article_id}"
