"""The console's article editor. It only parses; the services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskside.knowledge.models import Article, ArticleCategory, Visibility


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=300,
        required=False,
        help_text=_("One sentence shown in lists and search results."),
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 16, "data-coach": "article"}),
        help_text=_("Markdown: **bold**, *italic*, lists with -, links as [words](https://...)."),
    )
    category = forms.ModelChoiceField(
        label=_("Topic"), queryset=ArticleCategory.objects.all(), required=False
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    visibility = forms.ChoiceField(label=_("Who can read it"), choices=Visibility.choices)
    review_by = forms.DateField(
        label=_("Review by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("When someone should check the article is still right."),
    )

    @classmethod
    def for_article(cls, article: Article) -> ArticleForm:
        return cls(
            initial={
                "title": article.title,
                "summary": article.summary,
                "body": article.body,
                "category": article.category_id,
                "tags": ", ".join(article.tags),
                "visibility": article.visibility,
                "review_by": article.review_by,
            }
        )

    def changes(self) -> dict[str, Any]:
        """The cleaned values, in the shape the services take."""
        data = dict(self.cleaned_data)
        data["tags"] = [tag for tag in str(data.get("tags") or "").split(",") if tag.strip()]
        return data
