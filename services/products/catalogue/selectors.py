"""Reads of the catalogue."""

from django.db.models import QuerySet

from catalogue.models import Category, Product
from souk_common.errors import NotFound


class ProductNotFound(NotFound):
    """No product has this id, or it is retired and the caller is not staff."""


def product_list(*, include_retired: bool = False) -> QuerySet[Product]:
    """Products with their category (one query per page); retired ones for staff only."""
    products = Product.objects.select_related("category")
    return products if include_retired else products.filter(is_active=True)


def product_get(*, product_id: int, include_retired: bool = False) -> Product:
    """One product; a retired one is not found for the public."""
    product = product_list(include_retired=include_retired).filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound()
    return product


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")
