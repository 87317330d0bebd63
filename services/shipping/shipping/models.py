"""Data of the shipping app: what shipping to a country costs, and the shipments made.

The rule a rate gives (``shipping.services.quote_calculate``): shipping an order of
``item_count`` items worth ``subtotal`` costs ``base_cost + per_item_cost * item_count``,
and nothing when ``free_over`` is set and ``subtotal >= free_over``.
"""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

COUNTRY_CODE = RegexValidator(
    r"^[A-Z]{2}\Z", "An ISO 3166-1 alpha-2 code in capitals, such as GB or FR."
)
NOT_NEGATIVE = MinValueValidator(0)


class ShippingRate(models.Model):
    """What shipping to one country costs, by which carrier and how long it takes.

    A country with no rate is a country the shop does not ship to. Staff edit rates in
    the admin; the defaults come from a data migration (0002_default_rates).
    """

    country = models.CharField(
        max_length=2, unique=True, validators=[COUNTRY_CODE], help_text="ISO 3166-1 alpha-2."
    )
    country_name = models.CharField(max_length=100, help_text="As the storefront shows it.")
    carrier = models.CharField(max_length=100)
    base_cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[NOT_NEGATIVE],
        help_text="Charged once per order.",
    )
    per_item_cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[NOT_NEGATIVE],
        help_text="Charged for each item (each unit of each line).",
    )
    free_over = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[NOT_NEGATIVE],
        null=True,
        blank=True,
        help_text="Orders whose subtotal is at least this ship free; empty: never free.",
    )
    estimated_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="Working days to deliver."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(base_cost__gte=0, per_item_cost__gte=0),
                name="shipping_rate_costs_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(free_over__isnull=True) | models.Q(free_over__gte=0),
                name="shipping_rate_free_over_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(estimated_days__gte=1), name="shipping_rate_takes_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} ({self.carrier})"


class Shipment(models.Model):
    """The one shipment of a paid order, made when ``order.paid`` arrives.

    ``order_id`` is unique: an order ships once, however often its event is delivered.
    A shipment ``cancelled`` with no tracking number stands for a paid order cancelled
    before its ``order.paid`` was handled: it keeps a late ``order.paid`` from shipping it.
    """

    class Status(models.TextChoices):
        CREATED = "created"
        CANCELLED = "cancelled"

    order_id = models.UUIDField(unique=True, editable=False)
    user_id = models.BigIntegerField()
    country = models.CharField(max_length=2, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    # Unique; NULL only for a cancellation that came first (several NULLs are allowed).
    tracking_number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    estimated_days = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="cancelled") | models.Q(tracking_number__isnull=False),
                name="shipment_created_has_tracking_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number or '(none)'} for order {self.order_id}"
