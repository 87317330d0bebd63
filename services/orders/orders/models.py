"""Orders, their lines, and the idempotency keys clients send with them.

An order is a sale (``POST /api/orders/``, v1: sold at once) or a checkout
(``POST /api/checkout/``: the cart's lines held, paid for later). A sale's life
(see docs/architecture.md for the saga)::

    pending --reserved and committed--> confirmed --cancel--> cancelling --released--> cancelled
       |  \\--short stock or unknown product--> rejected
       \\--products failed or hung--> failing --released--> failed

A checkout's (each status below is entered with its event, all or none)::

    pending --held and quoted--> awaiting_payment --payment.succeeded, sold--> paid
       |  \\--short stock, unknown product     |  \\--payment.failed, released--> payment_failed
       |     or a country not shipped to--> rejected
       \\--products or shipping failed or hung--> failing --released--> failed

    paid --shipment.created--> shipped
    awaiting_payment, paid --cancel, or no payment in time--> cancelling --released--> cancelled

    awaiting_payment: order.placed   paid: order.paid   payment_failed: order.payment_failed
    shipped: order.shipped           cancelled: order.cancelled

A rejected or failed order sold nothing; it is listed all the same, its lines named and
priced from the catalogue when it settled, and its total theirs.

pending, failing and cancelling are not final: ``reconcile_orders`` drives any
order left in one of them (a crash, a hang) to a final state, and cancels a
checkout left awaiting payment past ``CHECKOUT_PAYMENT_TIMEOUT``. A payment or a
shipment that arrives for an order no longer waiting for it is recorded on the
order, which stays where it is (payments refunds a cancelled order's payment).
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
        AWAITING_PAYMENT = "awaiting_payment"
        PAID = "paid"
        PAYMENT_FAILED = "payment_failed"
        SHIPPED = "shipped"

    class Kind(models.TextChoices):
        SALE = "sale"  # POST /api/orders/: sold at once, no payment step (v1)
        CHECKOUT = "checkout"  # POST /api/checkout/: a cart, shipped, paid through payments

    class PaymentStatus(models.TextChoices):
        NONE = "", "no outcome yet"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"

    class CancelReason(models.TextChoices):
        NONE = "", "not cancelled"
        CUSTOMER = "customer"
        PAYMENT_TIMEOUT = "payment_timeout"

    UNSETTLED = (Status.PENDING, Status.FAILING, Status.CANCELLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.BigIntegerField()
    # The customer's username, from the token that placed the order (usernames never
    # change), so the admin names customers without asking the users service; blank for
    # orders placed before it was kept.
    username = models.CharField(max_length=150, blank=True, default="", db_default="")
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.SALE, db_default=Kind.SALE
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # A sale's total is its lines'; a checkout's is subtotal (its lines') + shipping_cost.
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # {name, line1, line2, city, postal_code, country}; a sale has none.
    shipping_address = models.JSONField(null=True, blank=True)
    # What payments said (payment.succeeded, payment.failed, payment.refunded), once it did.
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, blank=True, default="", db_default=""
    )
    payment_transaction_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    payment_reason = models.CharField(max_length=100, blank=True, default="", db_default="")
    # What shipping said (shipment.created), once it did.
    shipment_carrier = models.CharField(max_length=100, blank=True, default="", db_default="")
    shipment_tracking_number = models.CharField(
        max_length=100, blank=True, default="", db_default=""
    )
    cancel_reason = models.CharField(
        max_length=16, choices=CancelReason.choices, blank=True, default="", db_default=""
    )
    # When a checkout began awaiting payment: CHECKOUT_PAYMENT_TIMEOUT counts from here.
    placed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The lists, newest first (ties by id: the pagination's keyset): one user's,
            # everyone's (staff), everyone's in one status (staff).
            models.Index(fields=["user_id", "-created_at", "-id"], name="order_user_created_id"),
            models.Index(fields=["-created_at", "-id"], name="order_created_id"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_created_id"),
            models.Index(fields=["status", "updated_at"], name="order_status_updated"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
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
    """A client's ``Idempotency-Key`` for one order or checkout request, and the answer it got.

    Keys are per user, one namespace for both: ``request_fingerprint`` says which
    request a key was used for, so a key reused for the other one is refused (422).
    """

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
    # Told again with the answer (a checkout's Location); Retry-After is not kept.
    response_headers = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} ({self.state})"
