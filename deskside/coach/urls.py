"""The coach's console addresses, under /console/coach/ (included from deskside/urls.py)."""

from __future__ import annotations

from django.urls import path

from deskside.coach import views

app_name = "coach"

urlpatterns = [
    path("check", views.coach_check, name="check"),
    path("report/", views.coach_report, name="report"),
]
