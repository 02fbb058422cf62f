"""Area guards for views: who may enter the agent console and the requester portal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from deskside.accounts.models import User

View = Callable[..., HttpResponse]


def console_required(view: View) -> View:
    """Desk staff only. Visitors are sent to sign in; requesters to their portal."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_active:
            return redirect_to_login(request.get_full_path())
        if not user.uses_console:
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapper


def portal_required(view: View) -> View:
    """Anyone signed in; desk staff may use the portal too, to see what requesters see."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_active:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
