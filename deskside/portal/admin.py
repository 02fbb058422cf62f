"""Administration of the portal's per-category intake questions."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _

from deskside.portal.models import IntakeQuestion, QuestionKind


class IntakeQuestionForm(ModelForm[IntakeQuestion]):
    class Meta:
        model = IntakeQuestion
        fields = ["category", "label", "help_text", "kind", "choices", "required", "position",
                  "is_active"]  # fmt: skip

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("kind") == QuestionKind.CHOICE:
            lines = [line for line in str(data.get("choices") or "").splitlines() if line.strip()]
            if len(lines) < 2:
                # A list question with fewer than two answers would leave people stuck.
                raise ValidationError({"choices": _("Give at least two choices, one per line.")})
        return data


@admin.register(IntakeQuestion)
class IntakeQuestionAdmin(admin.ModelAdmin[IntakeQuestion]):
    form = IntakeQuestionForm
    list_display = ["label", "category", "kind", "required", "position", "is_active"]
    list_filter = ["category", "kind", "required", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["label", "help_text"]
