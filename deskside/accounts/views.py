"""Sign in and out, sign-in links by email, password reset and first-run setup."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from deskside.accounts import services
from deskside.accounts.forms import MagicLinkForm, SetupForm, SignInForm
from deskside.accounts.models import User, normalise_email
from deskside.system import ratelimit

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _too_many(request: HttpRequest, scope: str, email: str) -> bool:
    """Count an attempt against both the address and the client; True when over the limit."""
    limit, window = settings.LOGIN_ATTEMPTS_PER_WINDOW, settings.LOGIN_WINDOW_SECONDS
    by_email = ratelimit.hit(scope, normalise_email(email), limit=limit, window=window)
    # A client may try several addresses (a shared office), so it gets a larger allowance.
    by_ip = ratelimit.hit(scope + "-ip", _client_ip(request), limit=limit * 5, window=window)
    return not (by_email and by_ip)


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request) or "home")
    form = SignInForm(request, data=request.POST or None)
    limited = False
    if request.method == "POST":
        email = request.POST.get("email", "")
        if _too_many(request, "login", email):
            limited = True
            minutes = max(1, settings.LOGIN_WINDOW_SECONDS // 60)
            form.add_error(
                None,
                _(
                    "Too many sign-in attempts. For your safety, please wait %(minutes)d "
                    "minutes and try again, or reset your password."
                )
                % {"minutes": minutes},
            )
        elif form.is_valid() and form.user is not None:
            login(request, form.user, backend=BACKEND)
            return redirect(_safe_next(request) or "home")
    status = 429 if limited else (400 if request.method == "POST" else 200)
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": _safe_next(request) or ""},
        status=status,
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def magic_link_request(request: HttpRequest) -> HttpResponse:
    form = MagicLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if _too_many(request, "magic-link", email):
            form.add_error(
                None,
                _("Too many links requested. Please wait a few minutes, then try again."),
            )
            return render(request, "accounts/magic_link_request.html", {"form": form}, status=429)
        services.magic_link_send(email=email)
        # The same answer whether or not the address is known, so nobody can probe for staff.
        return render(request, "accounts/magic_link_sent.html", {"email": email})
    return render(request, "accounts/magic_link_request.html", {"form": form})


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def magic_link_use(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """GET shows a button; only the POST signs in.

    Mail scanners open links to check them. Signing in on GET would use up the link
    before the person clicks it.
    """
    user = _user_from_uid(uidb64)
    valid = user is not None and services.magic_link_tokens.check_token(user, token)
    if not valid or user is None:
        return render(request, "accounts/magic_link_invalid.html", status=400)
    if request.method == "POST":
        login(request, user, backend=BACKEND)
        return redirect("home")
    return render(request, "accounts/magic_link_confirm.html", {"person": user})


@sensitive_post_parameters("password", "password_again")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest, token: str) -> HttpResponse:
    """The first-run page where the first administrator creates their account."""
    if not services.setup_token_is_valid(token):
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.setup_complete(
                token=token,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, _("Welcome! Your desk is ready."))
            return redirect("tickets:console_home")
    return render(request, "accounts/setup.html", {"form": form})


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their area: the console for desk staff, the portal for others."""
    if not request.user.is_authenticated:
        return redirect(reverse("accounts:login"))
    user = request.user
    if isinstance(user, User) and user.uses_console:
        return redirect("tickets:console_home")
    return redirect("portal:home")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if _too_many(request, "password-reset", request.POST.get("email", "")):
            messages.error(
                request, _("Too many reset requests. Please wait a few minutes, then try again.")
            )
            return redirect("accounts:password_reset")
        return super().post(request, *args, **kwargs)

    def get_form(self, form_class=None):  # type: ignore[no-untyped-def]
        form = super().get_form(form_class)
        form.fields["email"].label = _("Your email address")
        return form


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
