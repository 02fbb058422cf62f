"""Uploading and downloading attachments through the API: limits, safety headers, owners."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas
from deskside.tickets.models import Attachment, Message, MessageKind, TicketSettings
from deskside.tickets.tests.api_helpers import make_ticket, post_json

pytestmark = pytest.mark.django_db


def upload(name: str = "log.txt", content: bytes = b"error 42", kind: str = "text/plain") -> object:
    return SimpleUploadedFile(name, content, content_type=kind)


def test_upload_to_a_new_reply_then_download(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.requester)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": [upload(), upload("../../etc/pass<wd>.html", b"<script>alert(1)</script>")]},
    )
    assert response.status_code == 201, response.json()
    message = response.json()
    assert message["kind"] == "public"
    assert message["body"] == "Attached: log.txt, pass_wd_.html"
    names = [item["filename"] for item in message["attachments"]]
    assert names == ["log.txt", "pass_wd_.html"]

    html = message["attachments"][1]
    assert html["download_url"] == f"/api/v1/attachments/{html['key']}"
    download = client.get(html["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment;")
    assert "pass_wd_.html" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert "default-src 'none'" in download["Content-Security-Policy"]


def test_upload_with_text_as_a_note(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = token_client(personas.agent).post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": upload(), "kind": "note", "body": "Event log from their PC."},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "note"
    assert response.json()["body"] == "Event log from their PC."


def test_requesters_may_not_upload_notes(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"files": upload(), "kind": "note"}
    )
    assert_error(response, 403, "forbidden")
    assert not Attachment.objects.exclude(message__ticket=ticket).exists()
    assert Attachment.objects.count() == 0


def test_upload_to_a_message_i_wrote(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    message = post_json(client, f"/api/v1/tickets/{ticket.pk}/messages", {"body": "See logs."})
    message_id = message.json()["id"]
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"files": upload(), "message_id": message_id}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == message_id
    assert [item["filename"] for item in response.json()["attachments"]] == ["log.txt"]
    assert Message.objects.filter(ticket=ticket).count() == 2  # no new message


def test_upload_to_someone_elses_message_is_refused(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    first = Message.objects.get(ticket=ticket)  # written by the requester
    response = token_client(personas.agent).post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"files": upload(), "message_id": first.pk}
    )
    assert_error(response, 403, "forbidden")
    assert not Attachment.objects.exists()


def test_upload_to_a_message_of_another_ticket_is_not_found(personas: Personas) -> None:
    mine = make_ticket(personas.requester)
    theirs = make_ticket(personas.other_requester)
    their_message = Message.objects.get(ticket=theirs)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{mine.pk}/attachments",
        {"files": upload(), "message_id": their_message.pk},
    )
    error = assert_error(response, 400, "invalid")
    assert list(error["details"]["fields"]) == ["message_id"]


def test_too_many_files_is_refused_in_plain_words(personas: Personas) -> None:
    TicketSettings.objects.update_or_create(pk=1, defaults={"max_attachments_per_message": 2})
    ticket = make_ticket(personas.requester)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": [upload("a.txt"), upload("b.txt"), upload("c.txt")]},
    )
    error = assert_error(response, 400, "invalid")
    assert error["message"] == "Attach at most 2 files to one message."
    assert list(error["details"]["fields"]) == ["files"]
    assert not Attachment.objects.exists()


def test_the_count_limit_includes_files_already_on_the_message(personas: Personas) -> None:
    TicketSettings.objects.update_or_create(pk=1, defaults={"max_attachments_per_message": 2})
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    first = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"files": [upload("a.txt"), upload("b.txt")]}
    ).json()
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": upload("c.txt"), "message_id": first["id"]},
    )
    error = assert_error(response, 400, "invalid")
    assert "already has 2" in error["message"]


def test_too_large_a_file_is_refused_in_plain_words(personas: Personas) -> None:
    TicketSettings.objects.update_or_create(pk=1, defaults={"max_attachment_mb": 1})
    ticket = make_ticket(personas.requester)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": upload("big.iso", b"0" * (1024 * 1024 + 1))},
    )
    error = assert_error(response, 400, "invalid")
    assert "big.iso is larger than 1 MB" in error["message"]
    assert not Attachment.objects.exists()


def test_no_files_is_a_validation_error(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"body": "forgot the file"}
    )
    error = assert_error(response, 422, "validation_failed")
    assert "files" in error["details"]["fields"]


def test_unknown_form_fields_are_refused(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = token_client(personas.requester).post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        {"files": upload(), "visibility": "public", "file": upload("x.txt")},
    )
    error = assert_error(response, 400, "unknown_field")
    assert sorted(error["details"]["fields"]) == ["file", "visibility"]
    assert not Attachment.objects.exists()


def test_unknown_attachment_key_is_not_found(personas: Personas) -> None:
    assert_error(
        token_client(personas.agent).get("/api/v1/attachments/does-not-exist"), 404, "not_found"
    )


def test_notes_attachments_are_not_offered_to_requesters(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    note = token_client(personas.agent).post(
        f"/api/v1/tickets/{ticket.pk}/attachments", {"files": upload(), "kind": "note"}
    )
    key = note.json()["attachments"][0]["key"]
    assert Attachment.objects.get(key=key).message.kind == MessageKind.NOTE  # type: ignore[union-attr]
    assert_error(
        token_client(personas.requester).get(f"/api/v1/attachments/{key}"), 404, "not_found"
    )
