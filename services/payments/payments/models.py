"""Data of the payments app: one payment per order."""

import uuid

from django.db import models


class Payment(models.Model):
    """The payment of one order, charged at most once (``order_id`` is unique).

    Stored with the outcome of its charge, in the transaction that made it: ``pending``
    lives only inside that transaction (a row no charge has been tried for yet, locked
    while the provider is asked) and is never committed. ``cancelled``: the order was
    cancelled before any charge, so none is ever made. No card data is kept: the token
    only as a masked hint.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(unique=True)
    user_id = models.BigIntegerField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices)
    transaction_id = models.CharField(max_length=255, blank=True)
    refund_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=100, blank=True, help_text="Why it was declined.")
    token_hint = models.CharField(
        max_length=32, blank=True, help_text="The card token, masked (never stored whole)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="payment_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} payment of order {self.order_id}"
