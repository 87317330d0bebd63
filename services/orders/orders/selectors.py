"""Reads of the orders app."""

from uuid import UUID

from django.db.models import QuerySet

from orders.models import Order
from souk_common.errors import NotFound


def order_list(*, user_id: int | None, status: str | None = None) -> QuerySet[Order]:
    """Orders with their lines (a fixed number of queries per page), newest first;
    ``user_id=None``: everyone's; ``status``: only those in it."""
    orders = Order.objects.prefetch_related("lines").order_by("-created_at")
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    return orders if status is None else orders.filter(status=status)


def order_get(*, order_id: UUID, user_id: int | None) -> Order:
    """One order; another user's is not found, exactly like one that does not exist."""
    order = order_list(user_id=user_id).filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    return order
