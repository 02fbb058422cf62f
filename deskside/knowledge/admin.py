"""Administration of help articles and their categories.

Saving an article here goes through the services, so every edit records a revision,
re-renders the HTML and re-indexes the article, exactly as any other edit would.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from deskside.accounts.models import User
from deskside.knowledge import services
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleRevision,
    ArticleState,
)


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin[ArticleCategory]):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]


class RevisionInline(admin.TabularInline[ArticleRevision, Article]):
    model = ArticleRevision
    fields = ["edited_at", "editor", "title"]
    readonly_fields = ["edited_at", "editor", "title"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin[Article]):
    list_display = ["title", "state", "visibility", "category", "owner", "views", "review_by"]
    list_filter = ["state", "visibility", "category"]
    search_fields = ["title", "summary"]
    fields = ["title", "summary", "body", "category", "tags", "visibility", "state", "owner",
              "review_by"]  # fmt: skip
    inlines = [RevisionInline]

    def save_model(
        self, request: HttpRequest, obj: Article, form: ModelForm[Article], change: bool
    ) -> None:
        actor = request.user if isinstance(request.user, User) else None
        data = form.cleaned_data
        edits = {name: data[name] for name in services.EDITABLE if name in data}
        if change:
            article = services.article_update(article=obj, actor=actor, **edits)
        else:
            article = services.article_create(actor=actor, **edits)
        state = data.get("state")
        if state == ArticleState.PUBLISHED and article.state != state:
            article = services.article_publish(article=article, actor=actor)
        elif state == ArticleState.ARCHIVED and article.state != state:
            article = services.article_archive(article=article, actor=actor)
        elif state == ArticleState.DRAFT and article.state != state:
            article = services.article_unpublish(article=article, actor=actor)
        # The admin reads obj's primary key to redirect and log the change.
        obj.pk = article.pk
        obj.slug = article.slug
