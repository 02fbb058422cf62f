"""The requester portal's addresses, all under /portal/."""

from __future__ import annotations

from django.urls import path

from deskside.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("new/questions/", views.category_questions, name="category_questions"),
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/confirm/", views.ticket_confirm, name="ticket_confirm"),
]
