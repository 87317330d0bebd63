"""The catalogue: categories and products, with their stock on hand."""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A thing for sale. ``stock`` is what is on hand; every change to it is in the ledger."""

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=Decimal("0.01")), name="catalogue_product_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="catalogue_product_stock_not_negative"
            ),
        ]
        indexes = [
            # The public list always filters on is_active, then by what the client asks.
            models.Index(fields=["is_active", "category"], name="product_active_category"),
            models.Index(fields=["is_active", "price"], name="product_active_price"),
            models.Index(fields=["is_active", "created_at"], name="product_active_created"),
            models.Index(fields=["is_active", "name"], name="product_active_name"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
