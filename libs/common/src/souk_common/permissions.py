"""Who may call a view: signed-in users, staff (confirmed with the users service now),
and services holding a scope. Used as DRF ``permission_classes``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from souk_common import accounts
from souk_common.tokens import Principal

if TYPE_CHECKING:  # DRF's views import its settings, which import this module.
    from rest_framework.views import APIView


class IsUser(permissions.BasePermission):
    """A signed-in user (a service token is not enough)."""

    message = "Sign in as a user to do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not getattr(user, "is_service", False))


def caller_is_staff(request: Request) -> bool:
    """Whether the caller may use staff privileges now, not just when the token was issued.

    The token must say staff, and the account must still be active and staff: for a
    :class:`Principal` the users service says so (:mod:`souk_common.accounts`, remembered
    for seconds); any other ``request.user`` is a live user row (the users service loads
    its own). Raises :class:`~souk_common.errors.UpstreamUnavailable` when the users
    service cannot be asked: staff privileges fail closed.
    """
    user = request.user
    if not (user and user.is_authenticated) or getattr(user, "is_service", False):
        return False
    if not user.is_staff:
        return False
    if isinstance(user, Principal) and user.user_id is not None:
        account = accounts.account_directory().get(user.user_id)
        return account is not None and account.is_active and account.is_staff
    return True


class IsStaff(IsUser):
    """A signed-in user who is staff now (see :func:`caller_is_staff`)."""

    message = "Only staff can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return super().has_permission(request, view) and caller_is_staff(request)


class ScopePermission(permissions.BasePermission):
    """A caller (a service, usually) whose token grants :attr:`scope`."""

    scope = ""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and self.scope in getattr(user, "scopes", ()))


def HasScope(scope: str) -> type[permissions.BasePermission]:
    """The permission class requiring ``scope``: ``permission_classes = [HasScope("x:y")]``."""
    return type(
        f"HasScope[{scope}]",
        (ScopePermission,),
        {"scope": scope, "message": f"This needs the '{scope}' scope."},
    )
