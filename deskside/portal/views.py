"""The requester portal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskside.accounts.decorators import portal_required


@portal_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")
