"""Portal settings an administrator edits: the extra questions asked per category."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    """How a requester answers an intake question."""

    TEXT = "text", _("Short text")
    CHOICE = "choice", _("Pick one from a list")
    YES_NO = "yes_no", _("Yes or no")


class IntakeQuestion(models.Model):
    """An extra question the portal asks when someone reports a problem in one category.

    Answers are appended to the ticket's description as a readable list, so agents, email
    and the API all see them without knowing about this model.
    """

    category = models.ForeignKey(
        "tickets.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="intake_questions",
    )
    label = models.CharField(
        _("question"), max_length=200, help_text=_("Ask it in plain words, e.g. 'Which printer?'")
    )
    help_text = models.CharField(
        _("hint"),
        max_length=300,
        blank=True,
        help_text=_("Shown under the question, e.g. where to find a printer's name."),
    )
    kind = models.CharField(
        _("kind of answer"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT
    )
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_("For 'Pick one from a list': one choice per line."),
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "position", "id"]
        verbose_name = _("intake question")
        verbose_name_plural = _("intake questions")

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]
