"""Asking for help from the portal: topic, guided questions, files and their limits."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from deskside.portal.models import IntakeQuestion, QuestionKind
from deskside.testing import Personas
from deskside.tickets.models import Attachment, Category, Channel, Priority, Ticket, TicketSettings

NEW = reverse("portal:ticket_new")


def _category(name: str = "Printing") -> Category:
    return Category.objects.get(name=name)


def _report(category: Category, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "category": category.pk,
        "subject": "Cannot print the monthly report",
        "trying": "Print the monthly report for the board meeting.",
        "happened": "The printer shows an error and nothing comes out.",
        "error_message": "Error 0x`57` — paper path blocked",
        "since": "this morning",
        "impact": str(Priority.P2),
    }
    data.update(extra)
    return data


def test_topic_chooser_lists_active_categories_with_descriptions(
    client: Client, personas: Personas
) -> None:
    Category.objects.filter(name="Phones").update(is_active=False)
    client.force_login(personas.requester)
    page = client.get(NEW).content.decode()
    assert "What is it about?" in page
    assert "Printers, scanning, paper jams" in page
    assert "Phones" not in page


def test_form_asks_the_topics_questions_and_htmx_swaps_them(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.requester)
    printing, network = _category("Printing"), _category("Network/VPN")
    page = client.get(NEW, {"category": printing.pk}).content.decode()
    assert "Which printer?" in page
    assert "What were you trying to do?" in page
    # The sentences people choose from are the admin-editable priority descriptions.
    assert "You, or a few people, cannot do an important part of your work." in page
    assert 'hx-get="/portal/new/questions/"' in page

    partial = client.get(reverse("portal:category_questions"), {"category": network.pk})
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "Where are you working from?" in html
    assert "Which printer?" not in html
    assert "<html" not in html


def test_without_javascript_changing_topic_keeps_what_was_typed(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.requester)
    data = _report(_category("Network/VPN"), refresh="1")
    response = client.post(NEW, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Where are you working from?" in page
    assert "Print the monthly report for the board meeting." in page
    assert not Ticket.objects.exists()


def test_submit_with_topic_questions_and_attachments(client: Client, personas: Personas) -> None:
    printing = _category()
    printer = IntakeQuestion.objects.get(category=printing, label="Which printer?")
    colour = IntakeQuestion.objects.create(
        category=printing, label="Colour or black and white?", kind=QuestionKind.CHOICE,
        choices="Colour\nBlack and white", required=True, position=5,
    )  # fmt: skip
    urgent = IntakeQuestion.objects.create(
        category=printing, label="Is another printer nearby?", kind=QuestionKind.YES_NO,
        required=True, position=6,
    )  # fmt: skip
    client.force_login(personas.requester)
    data = _report(
        printing,
        **{f"q_{printer.pk}": "FIN-2F-01", f"q_{colour.pk}": "Colour", f"q_{urgent.pk}": "no"},
    )
    data["attachments"] = [
        SimpleUploadedFile("screen shot.png", b"\x89PNG fake", content_type="image/png"),
        SimpleUploadedFile("log.txt", b"line 1\nline 2", content_type="text/plain"),
    ]
    response = client.post(NEW, data)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[ticket.pk])
    assert ticket.requester == personas.requester
    assert ticket.channel == Channel.PORTAL
    assert ticket.category == printing
    assert ticket.priority == Priority.P2
    body = ticket.messages.get().body
    assert "Print the monthly report for the board meeting." in body
    assert "The printer shows an error" in body
    assert "- **Which printer?:** FIN-2F-01" in body
    assert "- **Colour or black and white?:** Colour" in body
    assert "- **Is another printer nearby?:** No" in body
    assert "- **Since when:** this morning" in body
    # The error message sits in a code block whose fence its own backticks cannot close.
    assert "```\nError 0x`57` — paper path blocked\n```" in body
    assert sorted(ticket.attachments.values_list("filename", flat=True)) == [
        "log.txt",
        "screen shot.png",
    ]

    page = client.get(response["Location"]).content.decode()
    assert "Thank you. We&#x27;ve received your request" in page
    assert "Someone from IT will read it soon" in page
    assert "We&#x27;ve received it" in page


def test_missing_answers_say_what_to_do_and_create_nothing(
    client: Client, personas: Personas
) -> None:
    printing = _category()
    required = IntakeQuestion.objects.create(
        category=printing, label="Which floor?", required=True, position=9
    )
    client.force_login(personas.requester)
    response = client.post(NEW, _report(printing, trying="", impact=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tell us what you were trying to do, in your own words." in page
    assert "Choose the sentence that fits best." in page
    assert f'href="#id_q_{required.pk}"' in page
    assert not Ticket.objects.exists()


def test_too_many_files_is_a_clear_error_and_creates_nothing(
    client: Client, personas: Personas
) -> None:
    TicketSettings.objects.update_or_create(pk=1, defaults={"max_attachments_per_message": 2})
    client.force_login(personas.requester)
    data = _report(_category())
    data["attachments"] = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(3)]
    response = client.post(NEW, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "You chose 3 files, but one message can carry 2 files." in page
    assert "Please choose them again." in page
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_too_large_file_is_a_clear_error_and_creates_nothing(
    client: Client, personas: Personas
) -> None:
    TicketSettings.objects.update_or_create(pk=1, defaults={"max_attachment_mb": 1})
    client.force_login(personas.requester)
    data = _report(_category())
    data["attachments"] = [SimpleUploadedFile("huge.pdf", b"x" * (1024 * 1024 + 1))]
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert "huge.pdf is larger than 1 MB." in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_subject_is_shown_as_text_not_markup(client: Client, personas: Personas) -> None:
    client.force_login(personas.requester)
    client.post(NEW, _report(_category(), subject="<script>alert(1)</script>"))
    ticket = Ticket.objects.get()
    for url in (reverse("portal:ticket", args=[ticket.pk]), reverse("portal:tickets"),
                reverse("portal:home")):  # fmt: skip
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_visitors_are_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
