"""People, teams, departments and the tokens that let them in."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does at the desk; decides which area they land in and what they see."""

    REQUESTER = "requester", _("Requester")
    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    IT_MANAGER = "it_manager", _("IT manager")
    EXECUTIVE = "executive", _("Executive")
    ADMIN = "admin", _("Administrator")


# Roles that work in the agent console. Executives use it to follow escalations and reports.
CONSOLE_ROLES = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.IT_MANAGER, Role.EXECUTIVE, Role.ADMIN})
# Roles that see every ticket and person, whatever their teams.
DESK_WIDE_ROLES = frozenset({Role.IT_MANAGER, Role.EXECUTIVE, Role.ADMIN})


class TechnicalComfort(models.TextChoices):
    """How technical a person is, so replies can be pitched at the right level."""

    STANDARD = "standard", _("Standard: explain things in everyday words")
    TECHNICAL = "technical", _("Technical: comfortable with IT terms")


class TeamTier(models.TextChoices):
    """Where a team sits in the support chain."""

    SERVICE_DESK = "service_desk", _("Service desk (first line)")
    SPECIALIST = "specialist", _("Specialist (second or third line)")


class PhoneKind(models.TextChoices):
    """What sort of phone number this is."""

    WORK = "work", _("Work")
    MOBILE = "mobile", _("Mobile")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class Department(models.Model):
    """A part of the organisation that people belong to, such as Finance or Sales."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("head of department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="departments_headed",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A place people work from: an office, a site, or 'remote'."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    address = models.TextField(_("address"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    """Creates people with the email address as their sign-in name."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=normalise_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        EmailAddress.objects.create(user=user, email=user.email, is_primary=True)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("full_name", email.split("@")[0])
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalise_email(username or ""))


def normalise_email(address: str) -> str:
    """Addresses are compared case-insensitively everywhere, so they are stored lowercased."""
    return address.strip().lower()


class User(AbstractBaseUser):
    """A person: a requester, an agent, a manager or an administrator. Email is the login."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    preferred_name = models.CharField(
        _("preferred name"),
        max_length=100,
        blank=True,
        help_text=_("What they like to be called in replies. Leave empty to use the first name."),
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.REQUESTER, db_index=True
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    is_vip = models.BooleanField(
        _("VIP"), default=False, help_text=_("Their tickets are flagged and may escalate sooner.")
    )
    technical_comfort = models.CharField(
        _("technical comfort"),
        max_length=20,
        choices=TechnicalComfort.choices,
        default=TechnicalComfort.STANDARD,
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(Lower("full_name"), name="accounts_user_name_lower")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def first_name(self) -> str:
        """The name to greet them by."""
        if self.preferred_name:
            return self.preferred_name
        return self.full_name.split(" ")[0] if self.full_name else self.email.split("@")[0]

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER

    @property
    def uses_console(self) -> bool:
        """Whether this person works in the agent console rather than the portal."""
        return self.is_active and self.role in CONSOLE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def sees_whole_desk(self) -> bool:
        return self.is_active and self.role in DESK_WIDE_ROLES

    # Django's admin site asks these; only administrators may use it.
    @property
    def is_staff(self) -> bool:
        return self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_admin

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_admin

    def has_perms(self, perm_list: Any, obj: object = None) -> bool:
        return self.is_admin

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_admin


class EmailAddress(models.Model):
    """One of a person's email addresses. The primary one is also their sign-in name."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_addresses")
    email = models.EmailField(_("email address"), unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    # Set when mail to this address bounced permanently; notifications stop until the
    # person writes to the desk from it again.
    undeliverable_since = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    undeliverable_reason = models.CharField(_("why it bounced"), max_length=200, blank=True)

    class Meta:
        ordering = ["-is_primary", "email"]
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")

    def __str__(self) -> str:
        return self.email


class PhoneNumber(models.Model):
    """A phone number in international (E.164) form, so caller lookup can match it exactly."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_numbers")
    number = models.CharField(_("number"), max_length=32, db_index=True)
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PhoneKind.choices, default="work")

    class Meta:
        ordering = ["kind", "number"]
        verbose_name = _("phone number")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "number"], name="accounts_phone_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return self.number + (f" ext. {self.extension}" if self.extension else "")


class Team(models.Model):
    """A group of agents that owns tickets: the service desk, or a specialist team."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    tier = models.CharField(
        _("tier"), max_length=20, choices=TeamTier.choices, default=TeamTier.SERVICE_DESK
    )
    lead = models.ForeignKey(
        User,
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
    )
    description = models.TextField(_("description"), blank=True)
    is_restricted = models.BooleanField(
        _("restricted"),
        default=False,
        help_text=_("Only members (and IT managers) see this team's tickets, e.g. HR or Security."),
    )
    members: models.ManyToManyField[User, TeamMembership] = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """An agent's place in a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("team membership")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="accounts_member_once_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes, so a leaked database does not leak sign-ins."""
    return hashlib.sha256(token.encode()).hexdigest()


class SetupToken(models.Model):
    """The one-time first-run link at which the first administrator sets a password."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("setup link")

    def __str__(self) -> str:
        return f"setup link created {self.created_at:%Y-%m-%d %H:%M}"


class TokenScope(models.TextChoices):
    """What an API token may do: only look, or also change things."""

    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A token an integration uses to call the REST API on a person's behalf."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses this token."))
    # Read-only by default: a token leaked from a reporting script should not be able to
    # change tickets. Scope narrows what the person may do; it never widens it.
    scope = models.CharField(
        _("scope"),
        max_length=5,
        choices=TokenScope.choices,
        default=TokenScope.READ,
        help_text=_("Read only tokens may only fetch; write tokens may also make changes."),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text=_("The first characters, to recognise it."))
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
