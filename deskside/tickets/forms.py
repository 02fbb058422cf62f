"""Forms for the agent console. They parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile as DjangoUploadedFile
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from deskside.accounts.models import CONSOLE_ROLES, Team, User
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import (
    ACTIVE_KINDS,
    CannedReply,
    Category,
    LinkKind,
    Priority,
    Status,
)

REPLY = "reply"
NOTE = "note"


def working_statuses() -> QuerySet[Status]:
    """Statuses an agent may set directly; resolving and closing have their own steps."""
    return Status.objects.filter(kind__in=ACTIVE_KINDS).order_by("position", "name")


def agents() -> QuerySet[User]:
    return User.objects.filter(role__in=CONSOLE_ROLES, is_active=True).order_by("full_name")


def apply_service_error(form: forms.Form, error: ValidationError, aliases: dict[str, str]) -> None:
    """Show a service's error next to the field it is about, in the service's own words.

    ``aliases`` maps the service's argument names to this form's field names.
    """
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            field = aliases.get(name, name)
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(aliases.get(getattr(error, "code", "") or ""), message)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple>."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[DjangoUploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def to_uploads(files: list[DjangoUploadedFile]) -> list[UploadedFile]:
    """Browser uploads as the channel-neutral files the services take."""
    return [
        UploadedFile(name=f.name or "", content=f.read(), content_type=f.content_type or "")
        for f in files
    ]


class ComposerForm(forms.Form):
    """A reply to the requester or an internal note, with files and an optional status."""

    kind = forms.ChoiceField(
        label=_("Write"),
        choices=[(REPLY, _("Reply to the requester")), (NOTE, _("Internal note"))],
        initial=REPLY,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,  # the service says what is missing, in its own plain words
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7, "data-composer": "body"}),
        help_text=_("Markdown works: **bold**, lists with -, links."),
    )
    status = forms.ModelChoiceField(
        label=_("Then set the status to"),
        queryset=Status.objects.none(),
        required=False,
        empty_label=_("Keep the current status"),
    )
    attachments = MultipleFileField(label=_("Attach files"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = working_statuses()  # type: ignore[attr-defined]


class CannedForm(forms.Form):
    canned = forms.ModelChoiceField(
        label=_("Canned reply"), queryset=CannedReply.objects.none(), required=False
    )
    body = forms.CharField(required=False, strip=False)


class StatusForm(forms.Form):
    status = forms.ModelChoiceField(label=_("Status"), queryset=Status.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = working_statuses()  # type: ignore[attr-defined]


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("No category"),
    )


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=_("No team")
    )
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()  # type: ignore[attr-defined]


class TagForm(forms.Form):
    tag = forms.CharField(label=_("Add a tag"), max_length=60)


class WatcherForm(forms.Form):
    email = forms.EmailField(
        label=_("Add a watcher by email"),
        help_text=_("They get updates on this ticket."),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What happened, and how to avoid it next time"),
        required=False,  # the service explains what it needs
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the requester. Write it for them, in everyday words."),
    )
    first_contact = forms.BooleanField(
        label=_("Solved on the first contact, without handing on"), required=False
    )
    confirm_open_children = forms.BooleanField(
        label=_("Resolve it anyway, although linked tickets are still open"), required=False
    )


def _ticket_number(value: str) -> int:
    text = value.strip().lstrip("#").strip()
    if not text.isdigit():
        raise ValidationError(_("Write the ticket number, for example 1042 or #1042."))
    return int(text)


class TicketNumberField(forms.CharField):
    def clean(self, value: Any) -> int:
        text = super().clean(value)
        return _ticket_number(str(text))


class MergeForm(forms.Form):
    target = TicketNumberField(
        label=_("Merge into ticket number"),
        help_text=_("This ticket's conversation moves there, and this one is closed."),
        max_length=20,
    )


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("This ticket is"), choices=LinkKind.choices)
    target = TicketNumberField(label=_("Ticket number"), max_length=20)


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name for this filter"), max_length=80)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)


class BulkForm(forms.Form):
    """The same change to the selected rows of the queue."""

    ticket = forms.Field(required=False)
    team = forms.CharField(required=False)
    assignee = forms.CharField(required=False)
    status = forms.ModelChoiceField(queryset=Status.objects.none(), required=False)
    priority = forms.TypedChoiceField(
        choices=[("", ""), *list(Priority.choices)], coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = working_statuses()  # type: ignore[attr-defined]

    def clean_ticket(self) -> list[int]:
        # Choices are not known in advance; the selector decides which numbers are visible.
        values = self.data.getlist("ticket") if isinstance(self.data, QueryDict) else []
        return [int(v) for v in values if str(v).isdigit()]

    def _person_or_team(self, name: str) -> int | str | None:
        """'' means "leave as it is", 'none' means "nobody", a number means that one."""
        value = (self.cleaned_data.get(name) or "").strip()
        if value in ("", "none"):
            return value
        if not value.isdigit():
            raise ValidationError(_("Choose from the list."))
        return int(value)

    def clean_team(self) -> int | str | None:
        return self._person_or_team("team")

    def clean_assignee(self) -> int | str | None:
        return self._person_or_team("assignee")


class CallForm(forms.Form):
    """Log a phone call as a ticket: who called, what they need, and how it ended."""

    RESOLVED = "resolved"
    HAND_ON = "hand_on"
    NEW_PERSON = "new"

    requester = forms.CharField(required=False)
    new_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_email = forms.EmailField(label=_("Email address"), required=False)
    new_phone = forms.CharField(label=_("Phone number"), required=False, max_length=40)
    subject = forms.CharField(
        label=_("Summary"),
        max_length=250,
        required=False,
        help_text=_("A few words, e.g. 'Cannot print'."),
    )
    need = forms.CharField(
        label=_("What they need"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    done = forms.CharField(
        label=_("What was done on the call"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("Choose one"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.P3
    )
    outcome = forms.ChoiceField(
        label=_("How did the call end?"),
        choices=[(RESOLVED, _("Resolved on the call")), (HAND_ON, _("Hand on"))],
        widget=forms.RadioSelect,
    )
    resolution_note = forms.CharField(
        label=_("What happened, and how to avoid it next time"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the caller. Write it for them, in everyday words."),
    )
    team = forms.ModelChoiceField(
        label=_("Hand on to team"),
        queryset=Team.objects.all(),
        required=False,
        empty_label=_("No team"),
    )
    assignee = forms.ModelChoiceField(
        label=_("Hand on to person"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody yet"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()  # type: ignore[attr-defined]

    def clean_requester(self) -> int | str:
        value = (self.cleaned_data.get("requester") or "").strip()
        if value in ("", self.NEW_PERSON):
            return value
        if not value.isdigit():
            raise ValidationError(_("Choose the caller from the list."))
        return int(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        requester = data.get("requester")
        if requester == "":
            self.add_error(
                "requester",
                _("Find the caller by name, email or phone, or choose 'Someone new'."),
            )
        elif requester == self.NEW_PERSON:
            if not (data.get("new_name") or "").strip():
                self.add_error("new_name", _("Please give the caller's name."))
            if not data.get("new_email") and "new_email" not in self.errors:
                self.add_error("new_email", _("Please give the caller's email address."))
        return data
