"""Administration of service levels: business calendars (hours, holidays, exceptions) and
SLA policies. Saving either moves open tickets' deadlines (recomputed after commit)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from deskside.sla.forms import (
    ExceptionFormSet,
    IcsUploadForm,
    PublicHolidaysForm,
    ScheduleFormSet,
    calendar_holidays_add,
)
from deskside.sla.holidays import holidays_from_ical, public_holidays
from deskside.sla.models import (
    BusinessCalendar,
    CalendarException,
    EscalationRule,
    EscalationStep,
    Holiday,
    HolidaySource,
    SlaPolicy,
    WorkingPeriod,
)
from deskside.sla.tasks import sla_queue_recompute


class WorkingPeriodInline(admin.TabularInline[WorkingPeriod, BusinessCalendar]):
    model = WorkingPeriod
    formset = ScheduleFormSet
    extra = 0


class HolidayInline(admin.TabularInline[Holiday, BusinessCalendar]):
    model = Holiday
    extra = 0
    fields = ["date", "name", "source"]
    readonly_fields = ["source"]


class CalendarExceptionInline(admin.TabularInline[CalendarException, BusinessCalendar]):
    model = CalendarException
    formset = ExceptionFormSet
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ["name", "timezone", "always_open", "holiday_country", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "timezone",
        "always_open",
        "holiday_country",
        "holiday_subdivision",
        "created_at",
        "updated_at",
    ]
    inlines = [WorkingPeriodInline, HolidayInline, CalendarExceptionInline]
    actions = ["add_public_holidays_this_year", "add_public_holidays_next_year"]
    change_form_template = "sla/admin/calendar_change_form.html"

    def save_model(
        self, request: HttpRequest, obj: BusinessCalendar, form: Any, change: bool
    ) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # After the hours, holidays and exceptions are saved, in the same transaction.
        sla_queue_recompute(form.instance.pk)

    # --- Public holidays ----------------------------------------------------------------

    def _add_public_holidays(
        self, request: HttpRequest, calendar: BusinessCalendar, year: int
    ) -> None:
        if not calendar.holiday_country:
            self.message_user(
                request,
                _("“%(name)s” has no country set. Choose its country for public holidays first.")
                % {"name": calendar.name},
                messages.WARNING,
            )
            return
        try:
            found = public_holidays(calendar.holiday_country, calendar.holiday_subdivision, [year])
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        added = calendar_holidays_add(
            calendar=calendar, holidays=found, source=HolidaySource.PUBLIC
        )
        self.message_user(
            request,
            ngettext(
                "Added %(count)d public holiday for %(year)d to “%(name)s”.",
                "Added %(count)d public holidays for %(year)d to “%(name)s”.",
                added,
            )
            % {"count": added, "year": year, "name": calendar.name},
        )

    @admin.action(description=gettext_lazy("Add public holidays for this year"))
    def add_public_holidays_this_year(
        self, request: HttpRequest, queryset: QuerySet[BusinessCalendar]
    ) -> None:
        for calendar in queryset:
            self._add_public_holidays(request, calendar, timezone.localdate().year)

    @admin.action(description=gettext_lazy("Add public holidays for next year"))
    def add_public_holidays_next_year(
        self, request: HttpRequest, queryset: QuerySet[BusinessCalendar]
    ) -> None:
        for calendar in queryset:
            self._add_public_holidays(request, calendar, timezone.localdate().year + 1)

    # --- Extra pages: public holidays for a chosen year, and .ics upload ------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/public-holidays/",
                self.admin_site.admin_view(self.public_holidays_view),
                name="sla_businesscalendar_public_holidays",
            ),
            path(
                "<int:pk>/import-ics/",
                self.admin_site.admin_view(self.import_ics_view),
                name="sla_businesscalendar_import_ics",
            ),
        ]
        return extra + super().get_urls()

    def _page(
        self, request: HttpRequest, calendar: BusinessCalendar, form: Form, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": calendar,
            "title": title,
            "form": form,
        }
        return render(request, "sla/admin/calendar_tool.html", context)

    def _back(self, calendar: BusinessCalendar) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:sla_businesscalendar_change", kwargs={"object_id": calendar.pk})
        )

    def public_holidays_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        calendar = get_object_or_404(BusinessCalendar, pk=pk)
        if not self.has_change_permission(request, calendar):
            return HttpResponse(status=403)
        form = PublicHolidaysForm(request.POST or None, initial={"year": timezone.localdate().year})
        if request.method == "POST" and form.is_valid():
            self._add_public_holidays(request, calendar, form.cleaned_data["year"])
            return self._back(calendar)
        return self._page(request, calendar, form, _("Add public holidays"))

    def import_ics_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        calendar = get_object_or_404(BusinessCalendar, pk=pk)
        if not self.has_change_permission(request, calendar):
            return HttpResponse(status=403)
        form = IcsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                found = holidays_from_ical(form.cleaned_data["file"].read())
            except ValueError as exc:
                form.add_error("file", str(exc))
            else:
                added = calendar_holidays_add(
                    calendar=calendar, holidays=found, source=HolidaySource.ICAL
                )
                self.message_user(
                    request,
                    ngettext(
                        "Added %(count)d holiday from the file.",
                        "Added %(count)d holidays from the file.",
                        added,
                    )
                    % {"count": added},
                )
                return self._back(calendar)
        return self._page(request, calendar, form, _("Import holidays from a calendar file"))


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = [
        "name",
        "position",
        "is_active",
        "calendar",
        "first_response_minutes",
        "next_update_minutes",
        "resolution_minutes",
    ]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "calendar"]
    search_fields = ["name"]
    filter_horizontal = ["categories", "teams", "departments"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "position", "calendar"]}),
        (
            gettext_lazy("Which tickets it covers"),
            {"fields": ["priorities", "categories", "teams", "departments", "vip_only"]},
        ),
        (
            gettext_lazy("Targets, in working minutes"),
            {
                "fields": [
                    "first_response_minutes",
                    "next_update_minutes",
                    "resolution_minutes",
                    "warning_percentages",
                    "pause_when_waiting_on_requester",
                    "pause_when_waiting_on_third_party",
                ]
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Any policy change can change which policy a ticket follows: re-match them all. The
        # job runs after commit, so it sees the categories and teams saved after this.
        sla_queue_recompute(None)

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        super().delete_model(request, obj)
        sla_queue_recompute(None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SlaPolicy]) -> None:
        super().delete_queryset(request, queryset)
        sla_queue_recompute(None)


class EscalationStepInline(admin.StackedInline[EscalationStep, EscalationRule]):
    model = EscalationStep
    extra = 1
    # Webhook addresses typed without a scheme are meant as https, never plain http.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    autocomplete_fields = ["notify_person"]
    fieldsets = [
        (None, {"fields": ["position", "after_minutes", "on_breach", "reason"]}),
        (
            gettext_lazy("Whom to tell, and how"),
            {"fields": ["notify_roles", "notify_person", "notify_department_head", "webhook_url"]},
        ),
        (gettext_lazy("What to change"), {"fields": ["raise_priority_to", "reassign_team"]}),
    ]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin[EscalationRule]):
    """The ladder: which tickets climb it, and its steps in order."""

    list_display = ["name", "position", "is_active", "vip_only"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["categories"]
    inlines = [EscalationStepInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # After the steps are saved: open tickets are re-planned on the new ladder.
        sla_queue_recompute(None)

    def delete_model(self, request: HttpRequest, obj: EscalationRule) -> None:
        super().delete_model(request, obj)
        sla_queue_recompute(None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EscalationRule]) -> None:
        super().delete_queryset(request, queryset)
        sla_queue_recompute(None)

    fieldsets = [
        (None, {"fields": ["name", "is_active", "position"]}),
        (
            gettext_lazy("Which tickets climb this ladder"),
            {"fields": ["priorities", "categories", "vip_only"]},
        ),
    ]
