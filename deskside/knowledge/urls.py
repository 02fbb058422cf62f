"""Help article addresses: the portal's under /portal/help/, the console's under
/console/knowledge/ (both included from deskside/urls.py)."""

from __future__ import annotations

from django.urls import path

from deskside.knowledge import views

portal_patterns = [
    path("", views.help_home, name="home"),
    path("suggest", views.help_suggest, name="suggest"),
    path("<slug:slug>/", views.help_article, name="article"),
    path("<slug:slug>/feedback/", views.help_feedback, name="feedback"),
    path("<slug:slug>/solved/", views.help_solved, name="solved"),
]

console_patterns = [
    path("", views.console_list, name="list"),
    path("new/", views.console_new, name="new"),
    path("<int:pk>/edit/", views.console_edit, name="edit"),
    path("<int:pk>/state/", views.console_state, name="state"),
    path("pick", views.pick, name="pick"),
    path("tickets/<int:pk>/search", views.ticket_search, name="ticket_search"),
    path("tickets/<int:pk>/link/", views.ticket_link, name="ticket_link"),
    path("tickets/<int:pk>/unlink/", views.ticket_unlink, name="ticket_unlink"),
    path("tickets/<int:pk>/article/", views.from_ticket, name="from_ticket"),
]

portal_urls = (portal_patterns, "help")
console_urls = (console_patterns, "knowledge")
