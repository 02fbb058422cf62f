"""Administration of the coach's dictionary: add the organisation's own terms, switch
shipped ones off. The checks are the dictionary file's own (see
:func:`deskside.coach.services.term_problems`), in plain words by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from deskside.coach.models import Term, TermSource
from deskside.coach.services import term_problems, terms_set_enabled

_LIST_FORMAT = gettext_lazy(
    'Write a list in square brackets, with each item in double quotes: ["first", "second"].'
)


class TermForm(forms.ModelForm[Term]):
    class Meta:
        model = Term
        fields = [
            "key",
            "term",
            "kind",
            "expansion",
            "plain",
            "variants",
            "case_sensitive",
            "explanation",
            "severity",
            "tags",
            "enabled",
        ]
        error_messages = {
            "plain": {
                "required": gettext_lazy(
                    '“Plain alternatives” needs at least one, as a list: ["office connection"].'
                ),
                "invalid": _LIST_FORMAT,
            },
            "variants": {"invalid": _LIST_FORMAT},
            "tags": {"invalid": _LIST_FORMAT},
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            # A field that did not parse (say, a list that is not JSON) already has its
            # message; checking the rest against it would only add confusing ones.
            return cleaned
        candidate = {
            "id": cleaned.get("key", self.instance.key),
            "term": cleaned.get("term"),
            "kind": cleaned.get("kind"),
            "variants": cleaned.get("variants") if cleaned.get("variants") is not None else [],
            "case_sensitive": bool(cleaned.get("case_sensitive")),
            "expansion": cleaned.get("expansion") or "",
            "plain": cleaned.get("plain") if cleaned.get("plain") is not None else [],
            "explanation": cleaned.get("explanation"),
            "severity": cleaned.get("severity"),
            "tags": cleaned.get("tags") if cleaned.get("tags") is not None else [],
            "enabled": bool(cleaned.get("enabled")),
        }
        for field, problems in term_problems(candidate, exclude_pk=self.instance.pk).items():
            target = field if field in self.fields else None
            for problem in problems:
                self.add_error(target, problem)
        return cleaned


@admin.register(Term)
class TermAdmin(admin.ModelAdmin[Term]):
    form = TermForm
    list_display = ["term", "kind", "plain_first", "enabled", "source", "updated_at"]
    list_filter = ["kind", "enabled", "source"]
    search_fields = ["term", "key", "expansion", "explanation"]
    readonly_fields = ["source", "created_at", "updated_at"]
    actions = ["enable_terms", "disable_terms"]

    def get_readonly_fields(self, request: HttpRequest, obj: Term | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.source == TermSource.SHIPPED:
            # --sync matches shipped terms by key; a renamed one would be added again.
            fields.append("key")
        return fields

    @admin.display(description=gettext_lazy("Say instead"))
    def plain_first(self, obj: Term) -> str:
        return str(obj.plain[0]) if obj.plain else ""

    def save_model(self, request: HttpRequest, obj: Term, form: Any, change: bool) -> None:
        if not change:
            # Terms added here are the organisation's own; --sync never touches them.
            obj.source = TermSource.LOCAL
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Switch on the selected terms"))
    def enable_terms(self, request: HttpRequest, queryset: QuerySet[Term]) -> None:
        changed = terms_set_enabled(terms=queryset, enabled=True)
        self.message_user(
            request,
            ngettext("%(count)d term switched on.", "%(count)d terms switched on.", changed)
            % {"count": changed},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Switch off the selected terms"))
    def disable_terms(self, request: HttpRequest, queryset: QuerySet[Term]) -> None:
        changed = terms_set_enabled(terms=queryset, enabled=False)
        self.message_user(
            request,
            ngettext(
                "%(count)d term switched off: the coach no longer points it out.",
                "%(count)d terms switched off: the coach no longer points them out.",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )
