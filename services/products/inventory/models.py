"""Stock held for orders, and the ledger of every stock movement.

Invariant (``check_stock_invariant``): for every product,
on hand + held by live reservations + sold == everything ever put in,
and each of those equals the sum of its movements in the ledger.
"""

from django.db import models
from django.db.models import Q

from catalogue.models import Product


class Reservation(models.Model):
    """Stock set aside for one order (``reference`` is the order's id).

    ``reserved`` holds stock; ``committed`` means it was sold; ``released``
    means it went back on the shelf. A release that arrives before its
    reservation leaves a released reservation with no lines (a tombstone), so
    the late reservation is refused instead of holding stock nobody will free.
    """

    class Status(models.TextChoices):
        RESERVED = "reserved"
        COMMITTED = "committed"
        RELEASED = "released"

    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    # Fingerprint of the requested items, to tell a replay from a different request.
    # Empty for a tombstone.
    items_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="reservation_status_updated")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    @property
    def is_tombstone(self) -> bool:
        return self.status == self.Status.RELEASED and not self.items_fingerprint


class ReservationLine(models.Model):
    """One product of a reservation, with its name and price when reserved."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "product"], name="reservation_line_product_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class StockMovement(models.Model):
    """One change to a product's stock: the ledger, append-only."""

    class Kind(models.TextChoices):
        RESTOCK = "restock"  # put in: on hand up
        WRITE_OFF = "write_off"  # taken out by staff: on hand down
        RESERVE = "reserve"  # on hand -> held
        COMMIT = "commit"  # held -> sold
        RELEASE_HELD = "release_held"  # held -> on hand
        RELEASE_SOLD = "release_sold"  # sold -> on hand (order cancelled, or failed once sold)

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.PositiveIntegerField()
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["product", "kind"], name="movement_product_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} of product {self.product_id}"
