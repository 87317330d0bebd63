"""Writes of the catalogue: staff create, change and retire products."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from catalogue.models import Product
from inventory.services import stock_set
from souk_common.errors import InvalidInput


class SkuTaken(InvalidInput):
    """Another product has this SKU; ``details`` names the field, as for any invalid input."""

    def __init__(self) -> None:
        super().__init__(details={"sku": ["A product with this SKU already exists."]})


def _check_sku_free(sku: str, *, exclude_pk: int | None = None) -> None:
    others = Product.objects.filter(sku=sku)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise SkuTaken()


def product_create(*, data: dict[str, Any]) -> Product:
    """Create a product; its initial stock enters the ledger as a restock."""
    fields = dict(data)
    stock = fields.pop("stock", 0)
    _check_sku_free(fields["sku"])
    try:
        with transaction.atomic():
            product = Product.objects.create(**fields)
            if stock:
                stock_set(product=product, stock=stock)
    except IntegrityError:
        raise SkuTaken() from None
    return product


def product_update(*, product: Product, data: dict[str, Any]) -> Product:
    """Change a product; a new stock figure is recorded as a restock or write-off."""
    fields = dict(data)
    stock = fields.pop("stock", None)
    if "sku" in fields:
        _check_sku_free(fields["sku"], exclude_pk=product.pk)
    try:
        with transaction.atomic():
            for name, value in fields.items():
                setattr(product, name, value)
            if fields:
                product.save(update_fields=[*fields, "updated_at"])
            if stock is not None:
                stock_set(product=product, stock=stock)
    except IntegrityError:
        raise SkuTaken() from None
    return product


def product_retire(*, product: Product) -> Product:
    """Hide a product from the catalogue; past orders and reservations keep it."""
    product.is_active = False
    product.save(update_fields=["is_active", "updated_at"])
    return product
