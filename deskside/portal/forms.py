"""Portal forms: a guided problem report, replies, and "is it fixed?"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile as DjangoUpload
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deskside.portal import selectors
from deskside.portal.models import IntakeQuestion, QuestionKind
from deskside.tickets.attachments import UploadedFile, safe_filename
from deskside.tickets.models import Category, Priority, TicketSettings

QUESTION_PREFIX = "q_"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, checked against the desk's size and count limits.

    The limits are checked here, before anything is read into memory or saved, so a form
    that is too big fails as a whole with a message that says what to do, and creates nothing.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        uploads = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        limits = TicketSettings.current()
        if len(uploads) > limits.max_attachments_per_message:
            raise forms.ValidationError(
                ngettext(
                    "You chose %(chosen)d files, but one message can carry %(max)d file. "
                    "Remove some, or send the rest in another message.",
                    "You chose %(chosen)d files, but one message can carry %(max)d files. "
                    "Remove some, or send the rest in another message.",
                    limits.max_attachments_per_message,
                )
                % {"chosen": len(uploads), "max": limits.max_attachments_per_message}
            )
        max_bytes = limits.max_attachment_mb * 1024 * 1024
        files = []
        for upload in uploads:
            single: DjangoUpload = super().clean(upload, initial)
            if (single.size or 0) > max_bytes:
                raise forms.ValidationError(
                    _(
                        "%(name)s is larger than %(mb)d MB. Attach a smaller copy (a "
                        "screenshot of the important part is often enough), or share a "
                        "link to it instead."
                    )
                    % {"name": safe_filename(single.name or ""), "mb": limits.max_attachment_mb}
                )
            files.append(
                UploadedFile(
                    name=single.name or "attachment",
                    content=b"".join(single.chunks()),
                    content_type=single.content_type or "",
                )
            )
        return files


def files_help() -> str:
    limits = TicketSettings.current()
    return str(
        _("Up to %(count)d files, %(mb)d MB each. A screenshot of the error helps us most.")
        % {"count": limits.max_attachments_per_message, "mb": limits.max_attachment_mb}
    )


def _impact_choices() -> list[tuple[int, str]]:
    # Requesters pick the sentence that fits, not a code like "P2"; an admin edits the words.
    levels = selectors.priority_levels()
    if levels:
        return [(level.priority, level.description) for level in levels]
    return [(int(value), str(label)) for value, label in Priority.choices]


def _question_field(question: IntakeQuestion) -> forms.Field:
    common: dict[str, Any] = {
        "label": question.label,
        "help_text": question.help_text,
        "required": question.required,
    }
    if question.kind == QuestionKind.YES_NO:
        return forms.ChoiceField(
            choices=[("yes", str(_("Yes"))), ("no", str(_("No")))],
            widget=forms.RadioSelect,
            **common,
        )
    if question.kind == QuestionKind.CHOICE:
        options = [(option, option) for option in question.choice_list]
        widget = forms.RadioSelect if len(options) <= 6 else forms.Select
        if widget is forms.Select:
            options = [("", str(_("Choose one"))), *options]
        return forms.ChoiceField(choices=options, widget=widget, **common)
    return forms.CharField(max_length=500, **common)


class TicketForm(forms.Form):
    """A guided problem report whose extra questions depend on the chosen category."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        label=_("What is it about?"),
        empty_label=_("Choose a topic"),
        error_messages={"required": _("Choose the topic that fits best, or 'Other'.")},
    )
    subject = forms.CharField(
        max_length=250,
        label=_("Sum it up in a few words"),
        help_text=_("For example: I can't print to the second-floor printer."),
        error_messages={"required": _("Write a short summary, so we can find your request.")},
    )
    trying = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("What were you trying to do?"),
        error_messages={"required": _("Tell us what you were trying to do, in your own words.")},
    )
    happened = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("What happened instead?"),
        error_messages={"required": _("Tell us what went wrong, or what you saw.")},
    )
    error_message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("The exact error message, if you saw one"),
        help_text=_("Copy and paste it, or type it word for word."),
    )
    since = forms.CharField(
        required=False,
        max_length=200,
        label=_("Since when?"),
        help_text=_("For example: since this morning, or since Monday's update."),
    )
    impact = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How much is this stopping your work?"),
        help_text=_("Choose the sentence that fits best. It tells us how urgent this is."),
        error_messages={"required": _("Choose the sentence that fits best.")},
    )
    attachments = MultipleFileField(label=_("Screenshots or files"))

    BASE_FIELDS = ("category", "subject", "trying", "happened", "error_message", "since")
    LAST_FIELDS = ("impact", "attachments")

    def __init__(self, *args: Any, category: Category | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ModelChoiceField)
        category_field.queryset = selectors.categories_for_intake()
        impact = self.fields["impact"]
        assert isinstance(impact, forms.TypedChoiceField)
        impact.choices = _impact_choices()
        self.fields["attachments"].help_text = files_help()
        # htmx swaps in the topic's own questions when the choice changes; without
        # JavaScript the form's "Show the questions" button does the same with a reload.
        category_field.widget.attrs.update(
            {
                "hx-get": reverse("portal:category_questions"),
                "hx-target": "#category-questions",
                "hx-trigger": "change",
            }
        )
        if self.is_bound:
            category = selectors.category_for_intake(self.data.get("category"))
        self.chosen_category = category
        self.questions = selectors.intake_questions(category)
        for question in self.questions:
            self.fields[f"{QUESTION_PREFIX}{question.pk}"] = _question_field(question)

    def base_fields_bound(self) -> list[forms.BoundField]:
        return [self[name] for name in self.BASE_FIELDS]

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"{QUESTION_PREFIX}{question.pk}"] for question in self.questions]

    def last_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.LAST_FIELDS]

    def description(self) -> str:
        """The report as Markdown: plain headings, then the category answers as a list."""
        data = self.cleaned_data
        parts = [
            f"**{_('What I was trying to do')}**\n\n{data['trying'].strip()}",
            f"**{_('What happened instead')}**\n\n{data['happened'].strip()}",
        ]
        if data.get("error_message", "").strip():
            parts.append(f"**{_('Error message')}**\n\n{_fence(data['error_message'].strip())}")
        facts = []
        if data.get("since", "").strip():
            facts.append(f"- **{_('Since when')}:** {_one_line(data['since'])}")
        impact = dict(_impact_choices()).get(data["impact"], "")
        if impact:
            facts.append(f"- **{_('How much it stops my work')}:** {_one_line(impact)}")
        for question in self.questions:
            answer = data.get(f"{QUESTION_PREFIX}{question.pk}") or ""
            if question.kind == QuestionKind.YES_NO and answer:
                answer = str(_("Yes") if answer == "yes" else _("No"))
            if answer:
                facts.append(f"- **{_one_line(question.label)}:** {_one_line(answer)}")
        if facts:
            parts.append("\n".join(facts))
        return "\n\n".join(parts)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fence(text: str) -> str:
    # The fence must be longer than any run of backticks in the text, or the text could
    # close it early and the rest would be read as Markdown.
    run, longest_run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest_run = max(longest_run, run)
    fence = "`" * max(3, longest_run + 1)
    return f"{fence}\n{text}\n{fence}"


class ReplyForm(forms.Form):
    """A reply from the requester, with optional files."""

    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Your message"),
        error_messages={"required": _("Write a message before sending it.")},
    )
    attachments = MultipleFileField(label=_("Screenshots or files"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = files_help()


class ConfirmForm(forms.Form):
    """'Yes, it's fixed' or 'No, it's still not working', with an optional comment."""

    fixed = forms.ChoiceField(
        choices=[("yes", _("Yes, it's fixed")), ("no", _("No, it's still not working"))],
        # Set by whichever of the two buttons is pressed, so it is never drawn as a field.
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose whether it is fixed.")},
    )
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Anything to add?"),
        help_text=_("If it still isn't working, tell us what you see now."),
    )
