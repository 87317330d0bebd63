"""Reads of the inventory: the stock invariant."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When

from catalogue.models import Product
from inventory.models import Reservation, ReservationLine, StockMovement

Kind = StockMovement.Kind
Status = Reservation.Status


def _signed(plus: list[str], minus: list[str]) -> Sum:
    return Sum(
        Case(
            When(kind__in=plus, then=F("quantity")),
            When(kind__in=minus, then=-F("quantity")),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def _line_totals(status: str) -> dict[int, int]:
    rows = (
        ReservationLine.objects.filter(reservation__status=status)
        .values("product_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["product_id"]: row["total"] for row in rows}


def stock_invariant_violations(products: QuerySet[Product] | None = None) -> list[dict[str, Any]]:
    """Products where on hand + held + sold != everything put in, or the ledger disagrees.

    Four aggregate queries, whatever the number of products: the ledger summed
    per product and kind of bucket, the held and sold lines per product, and
    the products' stock.
    """
    products = Product.objects.all() if products is None else products
    ledger = {
        row["product_id"]: row
        for row in StockMovement.objects.filter(product__in=products)
        .values("product_id")
        .annotate(
            put_in=_signed([Kind.RESTOCK], [Kind.WRITE_OFF]),
            on_hand=_signed(
                [Kind.RESTOCK, Kind.RELEASE_HELD, Kind.RELEASE_SOLD], [Kind.WRITE_OFF, Kind.RESERVE]
            ),
            held=_signed([Kind.RESERVE], [Kind.COMMIT, Kind.RELEASE_HELD]),
            sold=_signed([Kind.COMMIT], [Kind.RELEASE_SOLD]),
        )
    }
    held, sold = _line_totals(Status.RESERVED), _line_totals(Status.COMMITTED)
    violations = []
    for pk, stock in products.values_list("pk", "stock"):
        entries = ledger.get(pk)
        recorded = {
            bucket: int(entries[bucket]) if entries else 0
            for bucket in ("put_in", "on_hand", "held", "sold")
        }
        actual = {"on_hand": stock, "held": held.get(pk, 0), "sold": sold.get(pk, 0)}
        if sum(actual.values()) != recorded["put_in"] or any(
            actual[bucket] != recorded[bucket] for bucket in actual
        ):
            violations.append({"product_id": pk, **actual, "ledger": recorded})
    return violations
