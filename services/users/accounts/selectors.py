"""Reads of the accounts app."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User


def user_list() -> QuerySet[User]:
    """Every account, oldest first (staff)."""
    return User.objects.order_by("id")


def user_get(*, user_id: int) -> User:
    """One account, or 404."""
    return get_object_or_404(User, pk=user_id)


def user_status(*, user_id: int) -> dict[str, Any]:
    """Whether an account exists and may act (``id``, ``username``, ``is_active``, ``is_staff``),
    or 404. Asked by orders for every order, hence one narrow query and no model instance."""
    row = User.objects.filter(pk=user_id).values("id", "username", "is_active", "is_staff").first()
    if row is None:
        raise Http404
    return dict(row)
