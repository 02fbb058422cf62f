"""The one way attachments leave the desk: the gated download view, with safe headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve
from pytest_django.fixtures import Settings

from deskside.accounts.models import Team
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Attachment, Channel, Ticket

CSP = "default-src 'none'; sandbox"


@pytest.fixture(autouse=True)
def _private_files(settings: Settings, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return services.ticket_create(
        actor=personas.requester, requester=personas.requester, subject="Files",
        body="See attached.", channel=Channel.PORTAL,
        files=[
            UploadedFile("screen.png", b"\x89PNG\r\n", "image/png"),
            UploadedFile("page.html", b"<script>alert(1)</script>", "image/png"),
            UploadedFile("Résumé «final».pdf", b"%PDF-1.4", "application/pdf"),
        ],
    )  # fmt: skip


def _get(client: Client, ticket: Ticket, filename: str, **query: str) -> Any:
    attachment = ticket.attachments.get(filename=filename)
    return client.get(reverse("attachment_download", args=[attachment.key]), query)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_download_headers(client: Client, personas: Personas, ticket: Ticket) -> None:
    client.force_login(personas.requester)
    response = _get(client, ticket, "screen.png")
    assert response.status_code == 200
    assert _body(response) == b"\x89PNG\r\n"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"screen.png\"; filename*=UTF-8''screen.png"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == CSP
    assert response["Cache-Control"] == "private"
    assert response["Content-Type"] == "image/png"


def test_images_inline_only_when_asked(client: Client, personas: Personas, ticket: Ticket) -> None:
    client.force_login(personas.requester)
    inline = _get(client, ticket, "screen.png", inline="1")
    assert inline["Content-Disposition"].startswith("inline; ")
    assert inline["Content-Security-Policy"] == CSP
    # HTML claiming to be an image is typed by its name, and never shown inline.
    html = _get(client, ticket, "page.html", inline="1")
    assert html["Content-Disposition"].startswith("attachment; ")
    assert html["Content-Type"] == "text/html"
    assert html["Content-Security-Policy"] == CSP
    pdf = _get(client, ticket, "Résumé «final».pdf", inline="1")
    assert pdf["Content-Disposition"] == (
        'attachment; filename="R_sum_ _final_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB.pdf"
    )


def test_agents_download_what_they_may_see(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    client.force_login(personas.agent)
    assert _get(client, ticket, "screen.png").status_code == 200
    # Once the ticket belongs to a restricted team, agents outside it find nothing.
    restricted = Team.objects.create(name="HR", is_restricted=True)
    services.ticket_assign(ticket=ticket, actor=personas.it_manager, team=restricted)
    assert _get(client, ticket, "screen.png").status_code == 404
    client.force_login(personas.it_manager)
    assert _get(client, ticket, "screen.png").status_code == 200


def test_internal_note_files_are_for_staff_only(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    note = services.ticket_add_note(
        ticket=ticket, actor=personas.agent, body="Log attached",
        files=[UploadedFile("debug.log", b"secret")],
    )  # fmt: skip
    url = reverse("attachment_download", args=[note.attachments.get().key])
    client.force_login(personas.agent)
    assert client.get(url).status_code == 200
    client.force_login(personas.requester)
    assert client.get(url).status_code == 404
    client.force_login(personas.other_requester)
    assert client.get(url).status_code == 404


def test_missing_file_is_not_found(client: Client, personas: Personas, ticket: Ticket) -> None:
    attachment = ticket.attachments.get(filename="screen.png")
    attachment.file.delete(save=False)
    client.force_login(personas.requester)
    assert client.get(reverse("attachment_download", args=[attachment.key])).status_code == 404


def _patterns(resolvers: list[URLPattern | URLResolver]) -> list[URLPattern]:
    found: list[URLPattern] = []
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            found += _patterns(list(entry.url_patterns))
        else:
            found.append(entry)
    return found


def test_no_address_serves_stored_files(client: Client, personas: Personas, ticket: Ticket) -> None:
    assert all(p.callback is not serve for p in _patterns(get_resolver().url_patterns))
    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"
    # The file directory is not inside anything WhiteNoise serves.
    media = Path(settings.MEDIA_ROOT).resolve()
    static = Path(settings.STATIC_ROOT).resolve()
    assert static not in media.parents
    assert media != static
    assert getattr(settings, "WHITENOISE_ROOT", None) is None
    client.force_login(personas.requester)
    attachment: Attachment = ticket.attachments.first()  # type: ignore[assignment]
    for guess in (f"/{attachment.file.name}", f"/files/{attachment.file.name}",
                  f"/media/{attachment.file.name}", f"/static/{attachment.file.name}"):  # fmt: skip
        assert client.get(guess).status_code == 404, guess
