"""The console's email pages, under /console/mail/."""

from __future__ import annotations

from django.urls import path

from deskside.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.mail_overview, name="overview"),
    path("messages/<int:pk>/", views.inbound_detail, name="inbound"),
    path("messages/<int:pk>/source.eml", views.inbound_download, name="inbound_download"),
    path(
        "messages/<int:pk>/<slug:action>/",
        views.inbound_action,
        name="inbound_action",
    ),
]
