"""Shared set-up for the tickets API tests: tickets made through the services."""

from __future__ import annotations

from typing import Any

from django.test import Client

from deskside.accounts.models import Team, User
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Channel, Ticket

RESOLUTION = "Your mailbox was full. Old mail is now archived, so this will not happen again."


def make_ticket(
    requester: User,
    *,
    actor: User | None = None,
    subject: str = "Cannot print",
    body: str = "The printer on floor 2 says offline.",
    team: Team | None = None,
    files: tuple[UploadedFile, ...] = (),
) -> Ticket:
    return services.ticket_create(
        actor=actor or requester,
        requester=requester,
        subject=subject,
        body=body,
        channel=Channel.PORTAL,
        team=team,
        files=files,
    )


def post_json(client: Client, path: str, data: Any) -> Any:
    return client.post(path, data, content_type="application/json")


def patch_json(client: Client, path: str, data: Any) -> Any:
    return client.patch(path, data, content_type="application/json")
