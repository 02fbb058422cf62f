"""Administration of the email channel: mailboxes, and the mail that came in."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deskside.accounts.models import User
from deskside.mail.intake import inbound_reprocess
from deskside.mail.models import InboundMessage, Mailbox

# --- Inbound ----------------------------------------------------------------------------

# Enough of the source to diagnose a problem without rendering a 25 MB page.
RAW_PREVIEW_BYTES = 64 * 1024


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    list_display = [
        "address",
        "name",
        "is_active",
        "accepts_from",
        "last_polled_at",
        "last_error_at",
    ]
    list_filter = ["is_active", "accepts_from"]
    search_fields = ["address", "name"]
    readonly_fields = ["last_polled_at", "last_error", "last_error_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["address", "name", "is_active"]}),
        (
            _("Where new tickets go"),
            {"fields": ["default_team", "default_category", "accepts_from", "known_domains"]},
        ),
        (
            _("Collecting by IMAP"),
            {
                "fields": [
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "imap_password_file",
                    "imap_folder",
                    "after_import",
                    "move_to_folder",
                ]
            },
        ),
        (_("Health"), {"fields": ["last_polled_at", "last_error", "last_error_at", "created_at"]}),
    ]


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = ["id", "received_at", "mailbox", "source", "state", "message_id", "size"]
    list_filter = ["state", "source", "mailbox"]
    search_fields = ["message_id", "sha256"]
    date_hierarchy = "received_at"
    actions = ["download_raw", "reprocess"]
    # Imported mail is evidence: nothing about it is edited by hand.
    readonly_fields = [
        "mailbox",
        "source",
        "size",
        "sha256",
        "message_id",
        "envelope_sender",
        "envelope_recipients",
        "received_at",
        "state",
        "error",
        "processed_at",
        "attempts",
        "ticket",
        "ticket_message",
        "raw_source",
    ]
    exclude = ["raw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        # Loaded only when shown or downloaded; a list of messages would read megabytes.
        return super().get_queryset(request).defer("raw")

    @admin.display(description=_("raw source"))
    def raw_source(self, inbound: InboundMessage) -> SafeString:
        data = bytes(inbound.raw)
        preview = data[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
        if len(data) > RAW_PREVIEW_BYTES:
            preview += "\n\n[…] " + str(_("The rest is in the downloaded file."))
        # format_html escapes the message, so hostile content is shown, never run.
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', preview)

    @admin.action(description=_("Download the raw message (.eml)"))
    def download_raw(
        self, request: HttpRequest, queryset: QuerySet[InboundMessage]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one message to download."), messages.WARNING
            )
            return None
        inbound = queryset.get()
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
        return response

    @admin.action(description=_("Process again"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        reviewer = request.user
        assert isinstance(reviewer, User)  # the admin site lets only administrators in
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                inbound_reprocess(pk, reviewer=reviewer)
            except ValidationError as exc:
                self.message_user(request, f"#{pk}: {exc.messages[0]}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was processed again.",
                    "%(count)d messages were processed again.",
                    done,
                )
                % {"count": done},
            )
