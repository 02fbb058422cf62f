"""The URL map. The console lives under /console/, the portal under /portal/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from deskside.accounts import views as account_views
from deskside.api.api import api
from deskside.knowledge import urls as knowledge_urls
from deskside.system import views as system_views
from deskside.tickets.views import attachments as attachment_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("setup/<str:token>/", account_views.setup, name="setup"),
    path("accounts/", include("deskside.accounts.urls")),
    path("console/mail/", include("deskside.mail.urls")),
    path("console/sla/", include("deskside.sla.urls")),
    path("console/coach/", include("deskside.coach.urls")),
    path("console/knowledge/", include(knowledge_urls.console_urls)),
    path("console/", include("deskside.tickets.urls")),
    path("portal/help/", include(knowledge_urls.portal_urls)),
    path("portal/", include("deskside.portal.urls")),
    path(
        "attachments/<str:key>/", attachment_views.attachment_download, name="attachment_download"
    ),
    path("api/v1/", api.urls),
    path("healthz", system_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
