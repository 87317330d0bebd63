"""The catalogue: categories and products, with their stock on hand."""

from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q, TextField, Value
from django.db.models.functions import Concat, Upper


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


# What ``?search=`` looks in: name, SKU and description as one text, a line apart. One
# expression, one index, one LIKE per row: the database estimates its matches far better
# than an OR of three (a description often repeats its name), so it keeps to the index.
# The search filter splits terms on whitespace, so a term found here is found in one of
# the three (but for a quoted phrase holding a line break, which may span two).
SEARCH_TEXT = Concat(
    "name", Value("\n"), "sku", Value("\n"), "description", output_field=TextField()
)


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
            # The public list: active products, in the order the client asks for, ties
            # broken by id (the pagination's keyset): each index hands over a page
            # without reading the rest of a million rows. Partial: retired products are
            # in none of them, and cost nothing there.
            *(
                models.Index(fields=fields, condition=Q(is_active=True), name=name)
                for name, fields in [
                    ("product_active_category_id", ["category", "id"]),
                    ("product_active_category_price", ["category", "price", "id"]),
                    ("product_active_price_id", ["price", "id"]),
                    ("product_active_name_id", ["name", "id"]),
                    ("product_active_created_id", ["created_at", "id"]),
                ]
            ),
            # Search: a case-insensitive substring of this text (see SEARCH_TEXT), found
            # through a trigram index of the same expression (pg_trgm, PostgreSQL only;
            # SQLite scans). Without fastupdate: a changed row goes into the index at once,
            # not into a pending list that every search would read through until a vacuum.
            GinIndex(
                OpClass(Upper(SEARCH_TEXT), name="gin_trgm_ops"),
                name="product_search_trgm",
                fastupdate=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
