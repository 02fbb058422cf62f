"""The escalation mail's one-click pages, under /console/sla/."""

from __future__ import annotations

from django.urls import path

from deskside.sla import views

app_name = "sla"

urlpatterns = [
    path(
        "escalations/<int:pk>/acknowledge/",
        views.escalation_acknowledge_view,
        name="escalation_acknowledge",
    ),
    path("escalations/<int:pk>/take/", views.escalation_take_view, name="escalation_take"),
    path(
        "escalations/<int:pk>/reassign/",
        views.escalation_reassign_view,
        name="escalation_reassign",
    ),
]
