"""Writes of the inventory: reservations, and every change to stock, with its ledger entry.

Stock is never read and then written back. Each operation runs in one
transaction that locks the product rows it touches in primary-key order
(``SELECT ... FOR UPDATE``), so concurrent reservations queue instead of
overselling, and two multi-line reservations cannot deadlock whatever order
their lines come in. The reservation row itself is locked first, and its
unique ``reference`` makes concurrent duplicates collide at insert time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Case, F, QuerySet, When
from django.utils import timezone
from rest_framework import status

from catalogue.models import Product
from inventory.models import Reservation, ReservationLine, StockMovement
from souk_common.errors import Conflict, ErrorCode, ServiceError

T = TypeVar("T")
Kind = StockMovement.Kind
Status = Reservation.Status


class OutOfStock(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.OUT_OF_STOCK.value
    default_detail = "Not enough stock for some lines; nothing was reserved."


class UnavailableProducts(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = ErrorCode.VALIDATION_ERROR.value
    default_detail = "Some products do not exist or are retired."


class ReferenceReused(ServiceError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED.value
    default_detail = "This reference was already used for other items."


class ReservationNotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = ErrorCode.NOT_FOUND.value
    default_detail = "No reservation has this reference."


@dataclass(frozen=True, order=True)
class RequestedItem:
    product_id: int
    quantity: int


def normalise_items(items: Iterable[RequestedItem]) -> tuple[RequestedItem, ...]:
    """Merge lines of the same product and sort them by product id."""
    totals: dict[int, int] = {}
    for item in items:
        totals[item.product_id] = totals.get(item.product_id, 0) + item.quantity
    return tuple(RequestedItem(pid, quantity) for pid, quantity in sorted(totals.items()))


def items_fingerprint(items: Sequence[RequestedItem]) -> str:
    text = ",".join(f"{item.product_id}:{item.quantity}" for item in items)
    return hashlib.sha256(text.encode()).hexdigest()


def _locked_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products in primary-key order (the one lock order every writer uses)."""
    rows = Product.objects.select_for_update().filter(pk__in=set(product_ids)).order_by("pk")
    return {product.pk: product for product in rows}


def _move_stock(deltas: dict[int, int]) -> None:
    """Add each delta to its product's on-hand stock, in one UPDATE."""
    if not deltas:
        return
    Product.objects.filter(pk__in=deltas).update(
        stock=Case(*(When(pk=pk, then=F("stock") + delta) for pk, delta in deltas.items())),
        updated_at=timezone.now(),
    )


def _record(kind: str, quantities: dict[int, int], reservation: Reservation | None = None) -> None:
    StockMovement.objects.bulk_create(
        StockMovement(product_id=pk, kind=kind, quantity=quantity, reservation=reservation)
        for pk, quantity in quantities.items()
        if quantity
    )


def _retrying_on_insert_race(operation: Callable[[], T]) -> T:
    """Run ``operation`` in a transaction; if a concurrent one inserted the same
    reference first, run it once more, when it will see that row."""
    try:
        with transaction.atomic():
            return operation()
    except IntegrityError:
        with transaction.atomic():
            return operation()


# Reservations -------------------------------------------------------------------------


def reservation_reserve(
    *, reference: str, items: Iterable[RequestedItem]
) -> tuple[Reservation, bool]:
    """Hold stock for every item, or for none; returns the reservation and whether it is new.

    The same reference with the same items answers with the existing
    reservation (stock is taken once); with other items it is refused (422);
    a reference released before it was reserved is refused (409).
    """
    requested = normalise_items(items)
    fingerprint = items_fingerprint(requested)

    def reserve() -> tuple[Reservation, bool]:
        existing = Reservation.objects.select_for_update().filter(reference=reference).first()
        if existing is not None:
            if existing.is_tombstone:
                raise Conflict("This reservation was released before it was made.")
            if existing.items_fingerprint != fingerprint:
                raise ReferenceReused()
            return existing, False
        # Inserting first makes a concurrent duplicate wait here, then fail on the unique key.
        reservation = Reservation.objects.create(
            reference=reference, status=Status.RESERVED, items_fingerprint=fingerprint
        )
        _hold(reservation, requested)
        return reservation, True

    return _retrying_on_insert_race(reserve)


def _hold(reservation: Reservation, requested: Sequence[RequestedItem]) -> None:
    products = _locked_products(item.product_id for item in requested)
    unavailable = [
        item.product_id
        for item in requested
        if item.product_id not in products or not products[item.product_id].is_active
    ]
    if unavailable:
        raise UnavailableProducts(
            f"Unknown or retired products: {', '.join(map(str, unavailable))}.",
            details={"unavailable_products": unavailable},
        )
    short = [
        {
            "product_id": item.product_id,
            "requested": item.quantity,
            "available": products[item.product_id].stock,
        }
        for item in requested
        if products[item.product_id].stock < item.quantity
    ]
    if short:
        raise OutOfStock(details={"lines": short})
    quantities = {item.product_id: item.quantity for item in requested}
    _move_stock({pk: -quantity for pk, quantity in quantities.items()})
    ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            product_id=item.product_id,
            quantity=item.quantity,
            unit_price=products[item.product_id].price,
            name=products[item.product_id].name,
        )
        for item in requested
    )
    _record(Kind.RESERVE, quantities, reservation)


def reservation_commit(*, reference: str) -> Reservation:
    """Held stock becomes sold. Idempotent; a released reservation cannot be committed."""
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().filter(reference=reference).first()
        if reservation is None:
            raise ReservationNotFound()
        if reservation.status == Status.COMMITTED:
            return reservation
        if reservation.status == Status.RELEASED:
            raise Conflict("This reservation was released; it cannot be committed.")
        quantities = _line_quantities(reservation)
        _record(Kind.COMMIT, quantities, reservation)
        reservation.status = Status.COMMITTED
        reservation.save(update_fields=["status", "updated_at"])
        return reservation


def reservation_release(*, reference: str) -> Reservation:
    """Return the stock (held, or sold for a cancelled order) exactly once.

    Releasing an unknown reference leaves a tombstone, so that the reservation,
    if it arrives later, is refused and holds nothing.
    """

    def release() -> Reservation:
        reservation = Reservation.objects.select_for_update().filter(reference=reference).first()
        if reservation is None:
            return Reservation.objects.create(
                reference=reference, status=Status.RELEASED, items_fingerprint=""
            )
        if reservation.status == Status.RELEASED:
            return reservation
        kind = Kind.RELEASE_HELD if reservation.status == Status.RESERVED else Kind.RELEASE_SOLD
        quantities = _line_quantities(reservation)
        _locked_products(quantities)
        _move_stock(quantities)
        _record(kind, quantities, reservation)
        reservation.status = Status.RELEASED
        reservation.save(update_fields=["status", "updated_at"])
        return reservation

    return _retrying_on_insert_race(release)


def _line_quantities(reservation: Reservation) -> dict[int, int]:
    lines: QuerySet[ReservationLine] = reservation.lines.all()
    return {line.product_id: line.quantity for line in lines}


# Stock changes by staff ---------------------------------------------------------------


def stock_set(*, product: Product, stock: int) -> Product:
    """Set a product's on-hand stock, recording the difference as a restock or write-off."""
    with transaction.atomic():
        locked = _locked_products([product.pk])[product.pk]
        delta = stock - locked.stock
        if delta:
            _move_stock({locked.pk: delta})
            _record(Kind.RESTOCK if delta > 0 else Kind.WRITE_OFF, {locked.pk: abs(delta)})
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product
