"""Administration screens for people and teams (a fuller settings UI comes later)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from deskside.accounts.models import (
    ApiToken,
    Department,
    EmailAddress,
    Location,
    PhoneNumber,
    Team,
    TeamMembership,
    User,
)


class EmailAddressInline(admin.TabularInline[EmailAddress, User]):
    model = EmailAddress
    extra = 0


class PhoneNumberInline(admin.TabularInline[PhoneNumber, User]):
    model = PhoneNumber
    extra = 0


class MembershipInline(admin.TabularInline[TeamMembership, User]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["full_name", "email", "role", "department", "is_vip", "is_active"]
    list_filter = ["role", "is_vip", "is_active", "department", "technical_comfort"]
    search_fields = ["full_name", "email", "email_addresses__email", "phone_numbers__number"]
    ordering = ["full_name"]
    # Passwords are never edited here; people reset them by email, admins with createadmin.
    exclude = ["password", "last_login"]
    readonly_fields = ["date_joined"]
    inlines = [EmailAddressInline, PhoneNumberInline, MembershipInline]
    list_per_page = 50


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "tier", "lead"]
    list_filter = ["tier"]
    search_fields = ["name"]
    autocomplete_fields = ["lead"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["name", "head"]
    search_fields = ["name"]
    autocomplete_fields = ["head"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "scope", "prefix", "created_at", "last_used_at", "expires_at"]
    readonly_fields = ["token_hash", "prefix", "scope", "created_at", "last_used_at"]
    search_fields = ["name", "user__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token made here would have no secret anyone could use; see docs/api.md.
        return False


admin.site.site_header = _("Deskside administration")
admin.site.site_title = _("Deskside administration")
