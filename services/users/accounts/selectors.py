"""Reads of the accounts app."""

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from souk_common.errors import NotFound


@dataclass(frozen=True)
class AccountStatus:
    """Whether an account exists and may act, as other services ask (no e-mail address:
    that is :class:`AccountContact`, for the one service that writes to the user)."""

    id: int
    username: str
    is_active: bool
    is_staff: bool


@dataclass(frozen=True)
class AccountContact:
    """Where to write to an account: what a service that mails the customer needs, no more."""

    id: int
    username: str
    email: str


def user_list() -> QuerySet[User]:
    """Every account, oldest first (staff)."""
    return User.objects.order_by("id")


def user_get(*, user_id: int) -> User:
    """One account, or NotFound."""
    try:
        return User.objects.get(pk=user_id)
    except User.DoesNotExist:
        raise NotFound() from None


def user_get_active(*, user_id: int | None) -> User | None:
    """The account, if it exists and is active (one that may sign in or hold a session)."""
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def user_status(*, user_id: int) -> AccountStatus:
    """An account's status, or NotFound. Asked by orders for every order, hence one narrow
    query and no model instance."""
    row = (
        User.objects.filter(pk=user_id)
        .values_list("id", "username", "is_active", "is_staff")
        .first()
    )
    if row is None:
        raise NotFound()
    return AccountStatus(*row)


def user_contact(*, user_id: int) -> AccountContact:
    """An account's name and current e-mail address, or NotFound (the notifications service
    asks it for every mail), in one narrow query."""
    row = User.objects.filter(pk=user_id).values_list("id", "username", "email").first()
    if row is None:
        raise NotFound()
    return AccountContact(*row)
