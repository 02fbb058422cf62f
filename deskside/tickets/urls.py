"""The agent console's addresses, all under /console/."""

from __future__ import annotations

from django.urls import path

from deskside.tickets.views import call, home, queue, search, ticket

app_name = "tickets"

urlpatterns = [
    path("", home.console_home, name="console_home"),
    # queue routes (tickets/views/queue.py)
    path("tickets/", queue.queue, name="queue"),
    path("tickets/poll/", queue.queue_poll, name="queue_poll"),
    path("tickets/counts/", queue.queue_counts_partial, name="queue_counts"),
    path("tickets/bulk/", queue.bulk_update, name="bulk_update"),
    path("tickets/filters/", queue.saved_filter_save, name="saved_filter_save"),
    path("tickets/filters/<int:pk>/delete/", queue.saved_filter_delete, name="saved_filter_delete"),
    # ticket page routes (tickets/views/ticket.py, tickets/views/call.py)
    path("tickets/<int:pk>/", ticket.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/compose/", ticket.ticket_compose, name="ticket_compose"),
    path("tickets/<int:pk>/preview/", ticket.ticket_preview, name="ticket_preview"),
    path("tickets/<int:pk>/canned/", ticket.ticket_canned, name="ticket_canned"),
    path("tickets/<int:pk>/presence/", ticket.ticket_presence, name="ticket_presence"),
    path("tickets/<int:pk>/status/", ticket.ticket_set_status, name="ticket_status"),
    path("tickets/<int:pk>/priority/", ticket.ticket_set_priority, name="ticket_priority"),
    path("tickets/<int:pk>/category/", ticket.ticket_set_category, name="ticket_category"),
    path("tickets/<int:pk>/assign/", ticket.ticket_set_assignment, name="ticket_assign"),
    path("tickets/<int:pk>/tags/", ticket.ticket_tag_add, name="ticket_tag_add"),
    path("tickets/<int:pk>/tags/remove/", ticket.ticket_tag_remove, name="ticket_tag_remove"),
    path("tickets/<int:pk>/watchers/", ticket.ticket_watcher_add, name="ticket_watcher_add"),
    path(
        "tickets/<int:pk>/watchers/remove/",
        ticket.ticket_watcher_remove,
        name="ticket_watcher_remove",
    ),
    path("tickets/<int:pk>/resolve/", ticket.ticket_resolve, name="ticket_resolve"),
    path("tickets/<int:pk>/reopen/", ticket.ticket_reopen, name="ticket_reopen"),
    path("tickets/<int:pk>/merge/", ticket.ticket_merge, name="ticket_merge"),
    path("tickets/<int:pk>/link/", ticket.ticket_link, name="ticket_link"),
    path("tickets/<int:pk>/unlink/", ticket.ticket_unlink, name="ticket_unlink"),
    path("call/", call.log_call, name="call"),
    path("call/people/", call.call_people, name="call_people"),
    # search routes (tickets/views/search.py)
    path("search/", search.search, name="search"),
]
