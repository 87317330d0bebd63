"""Orders, their lines, and the idempotency keys clients send with them.

An order's life (see docs/architecture.md for the saga)::

    pending --reserved and committed--> confirmed --cancel--> cancelling --released--> cancelled
       |  \\--short stock or unknown product--> rejected
       \\--products failed or hung--> failing --released--> failed

pending, failing and cancelling are not final: ``reconcile_orders`` drives any
order left in one of them (a crash, a hang) to a final state.
"""

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        FAILING = "failing"
        FAILED = "failed"
        CANCELLING = "cancelling"
        CANCELLED = "cancelled"

    UNSETTLED = (Status.PENDING, Status.FAILING, Status.CANCELLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="order_user_created"),
            models.Index(fields=["status", "updated_at"], name="order_status_updated"),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"

    @property
    def reference(self) -> str:
        """The reservation reference at the products service."""
        return str(self.id)


class OrderLine(models.Model):
    """A product in an order; name and unit price are the products service's at reservation."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product_id"], name="order_line_product_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=1000), name="order_line_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name or self.product_id}"

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for one order request, and the answer it got."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="idempotency_key"
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} ({self.state})"
