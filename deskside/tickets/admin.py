"""Administration of the ticket catalogue: categories, statuses, priorities, canned replies."""

from __future__ import annotations

from django.contrib import admin

from deskside.tickets.models import (
    CannedReply,
    Category,
    PriorityLevel,
    Status,
    TicketSettings,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "default_team", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["name"]


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin[Status]):
    list_display = ["name", "kind", "requester_label", "is_default_for_kind", "position"]
    list_filter = ["kind"]


@admin.register(PriorityLevel)
class PriorityLevelAdmin(admin.ModelAdmin[PriorityLevel]):
    list_display = ["priority", "name", "description"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    list_display = ["title", "team"]
    search_fields = ["title", "body"]


@admin.register(TicketSettings)
class TicketSettingsAdmin(admin.ModelAdmin[TicketSettings]):
    list_display = ["reopen_days", "autoclose_days", "max_attachment_mb"]
