"""The one permission gate.

Every question of the form "may this person see or change this object?" and "which objects
of this kind may this person see?" is answered here, and nowhere else. Each model that a
person can reach registers a :class:`Policy`; asking about a model without one is a
programming error, so nothing is visible by accident.

Seeing and changing are decided by the same queryset filter, so a list, a detail page, an
export and an attachment download can never disagree. Objects a person may not see are
reported as "not found" (404), never as "forbidden", so their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from deskside.accounts.models import Department, Location, Role, Team, User

M = TypeVar("M", bound=models.Model)
Person = User | AnonymousUser


class Policy:
    """Who may see and change objects of one model. Subclass and register per model."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow ``queryset`` to what ``user`` (active, signed in) may see."""
        raise NotImplementedError

    def may_change(self, user: User, obj: Any) -> bool:
        """Whether ``user``, who can already see ``obj``, may change it."""
        return user.is_admin

    def sees_loaded(self, user: User, obj: Any) -> bool:
        """A sure "yes" from ``obj``'s loaded fields alone, without asking the database.

        Only for rules that :meth:`visible` applies in every case (a requester always sees
        their own ticket). False means "not sure": :func:`can_view` then asks the
        database through :meth:`visible`, which stays the one definition of seeing.
        """
        return False


_policies: dict[type[models.Model], Policy] = {}


def register(model: type[models.Model]) -> Callable[[type[Policy]], type[Policy]]:
    """Class decorator: ``@register(Ticket) class TicketPolicy(Policy): ...``."""

    def decorate(policy_class: type[Policy]) -> type[Policy]:
        if model in _policies:
            raise RuntimeError(f"{model.__name__} already has a permission policy.")
        _policies[model] = policy_class()
        return policy_class

    return decorate


def policy_for(model: type[models.Model]) -> Policy:
    try:
        return _policies[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} has no permission policy; register one in its app."
        ) from None


def _active(user: Person | None) -> User | None:
    if isinstance(user, User) and user.is_active:
        return user
    return None


def visible(user: Person | None, source: type[M] | QuerySet[M]) -> QuerySet[M]:
    """The objects of a model (or within a queryset) that ``user`` may see."""
    queryset: QuerySet[M] = source.objects.all() if isinstance(source, type) else source  # type: ignore[attr-defined]
    policy = policy_for(queryset.model)
    person = _active(user)
    if person is None:
        return queryset.none()
    return policy.visible(person, queryset)


def can_view(user: Person | None, obj: models.Model) -> bool:
    person = _active(user)
    if person is not None and policy_for(type(obj)).sees_loaded(person, obj):
        return True
    return visible(user, type(obj)).filter(pk=obj.pk).exists()


def can_change(user: Person | None, obj: models.Model) -> bool:
    person = _active(user)
    if person is None or not can_view(person, obj):
        return False
    return policy_for(type(obj)).may_change(person, obj)


def get_visible_or_404(user: Person | None, source: type[M] | QuerySet[M], **lookup: Any) -> M:
    """Fetch one object the user may see; anything else is simply "not found"."""
    try:
        return visible(user, source).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def require_change(user: Person | None, obj: models.Model) -> None:
    """Raise 404 if the user cannot see ``obj``, 403 if they can see it but not change it."""
    if not can_view(user, obj):
        raise Http404
    if not policy_for(type(obj)).may_change(user, obj):  # type: ignore[arg-type]
        raise PermissionDenied


# --- Policies for the accounts app's own models -------------------------------------------


@register(User)
class PersonPolicy(Policy):
    """Desk staff see everyone; a requester sees only themselves."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.uses_console:
            return queryset
        return queryset.filter(pk=user.pk)

    def may_change(self, user: User, obj: Any) -> bool:
        # People edit their own profile; administrators edit anyone's.
        return user.is_admin or obj.pk == user.pk


@register(Team)
class TeamPolicy(Policy):
    """Desk staff see every team (to hand tickets on); requesters see none."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if user.uses_console else queryset.none()

    def may_change(self, user: User, obj: Any) -> bool:
        return user.is_admin or (user.role == Role.TEAM_LEAD and obj.lead_id == user.pk)


@register(Department)
class DepartmentPolicy(Policy):
    """Desk staff see every department; a requester sees their own."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.uses_console:
            return queryset
        return queryset.filter(Q(pk=user.department_id)) if user.department_id else queryset.none()


@register(Location)
class LocationPolicy(Policy):
    """Desk staff see every location; a requester sees their own."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.uses_console:
            return queryset
        return queryset.filter(pk=user.location_id) if user.location_id else queryset.none()
