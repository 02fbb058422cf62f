from __future__ import annotations

from django.urls import path

from deskside.tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.console_home, name="console_home"),
]
