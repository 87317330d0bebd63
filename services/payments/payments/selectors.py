"""Reads of the payments app."""

from uuid import UUID

from django.db.models import QuerySet

from payments.models import Payment


def payment_list(*, user_id: int | None, order_id: UUID | None = None) -> QuerySet[Payment]:
    """Payments, newest first: a user's own (``None``: everyone's), of one order if named.

    Another user's payment is simply not among them, exactly like one that does not exist.
    """
    payments = Payment.objects.order_by("-created_at", "-id")
    if user_id is not None:
        payments = payments.filter(user_id=user_id)
    if order_id is not None:
        payments = payments.filter(order_id=order_id)
    return payments
