"""Reads of the accounts app."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User


def user_list() -> QuerySet[User]:
    """Every account, oldest first (staff)."""
    return User.objects.order_by("id")


def user_get(*, user_id: int) -> User:
    """One account, or 404."""
    return get_object_or_404(User, pk=user_id)
