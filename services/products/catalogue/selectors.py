"""Reads of the catalogue."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from catalogue.models import Category, Product


def product_list(*, include_retired: bool = False) -> QuerySet[Product]:
    """Products with their category (one query per page); retired ones for staff only."""
    products = Product.objects.select_related("category")
    return products if include_retired else products.filter(is_active=True)


def product_get(*, product_id: int, include_retired: bool = False) -> Product:
    """One product, or 404 (a retired one is 404 for the public)."""
    return get_object_or_404(product_list(include_retired=include_retired), pk=product_id)


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")
