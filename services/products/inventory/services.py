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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalogue.models import Product
from inventory.models import Reservation, ReservationLine, StockMovement
from souk_common.errors import ApplicationError, Conflict, ErrorCode
from souk_common.sql import Statement, column, execute_together, insert, param, table, update

Kind = StockMovement.Kind
Status = Reservation.Status


class OutOfStock(ApplicationError):
    """Some lines are short; ``details["lines"]`` names each with what is available."""

    code = ErrorCode.OUT_OF_STOCK
    default_message = "Not enough stock for some lines; nothing was reserved."


class UnavailableProducts(ApplicationError):
    """Some products do not exist or are retired; ``details`` names them."""

    code = ErrorCode.VALIDATION_ERROR
    default_message = "Some products do not exist or are retired."


class ReferenceReused(ApplicationError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    default_message = "This reference was already used for other items."


class ReservationNotFound(ApplicationError):
    code = ErrorCode.NOT_FOUND
    default_message = "No reservation has this reference."


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


# Each kind of write has one builder: stock by _stock_moved, the ledger by _ledger, a
# reservation's status by _status_moved. They return statements instead of running
# queries, so that the writes made while product rows are locked go to PostgreSQL in
# one round trip (souk_common.sql.execute_together; docs/benchmarks.md, "Load").


def _lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products in primary-key order (the one lock order every writer uses)."""
    # SQLite has no FOR UPDATE: its transactions here start IMMEDIATE, holding the write lock.
    products = (
        Product.objects.select_for_update()
        .filter(pk__in=set(product_ids))
        .order_by("pk")
        .only("name", "price", "stock", "is_active")
    )
    return {product.pk: product for product in products}


def _stock_moved(deltas: dict[int, int]) -> list[Statement]:
    """Add each delta to its product's on-hand stock: one UPDATE per product.

    (One UPDATE with a CASE per product id costs twice as much to build with the
    ORM, and all of them go in the same round trip.)
    """
    now = timezone.now()
    return [
        update(Product.objects.filter(pk=pk), stock=F("stock") + delta, updated_at=now)
        for pk, delta in deltas.items()
    ]


def _ledger(
    kind: str | Sequence[str], quantities: dict[int, int], reservation: Reservation | None = None
) -> Statement | None:
    """Ledger entries: one per product whose stock moved, for each kind of movement."""
    now = timezone.now()
    reservation_id = reservation.pk if reservation is not None else None
    kinds = [kind] if isinstance(kind, str) else kind
    # An INSERT to send with the other writes: bulk_create would be a round trip of its own.
    return insert(
        StockMovement,
        ["product", "kind", "quantity", "reservation", "created_at"],
        [(pk, k, qty, reservation_id, now) for k in kinds for pk, qty in quantities.items() if qty],
    )


def _status_moved(reservation: Reservation, status: str) -> Statement:
    """The reservation (locked by the caller) moves to ``status``."""
    reservation.status, reservation.updated_at = status, timezone.now()
    return update(
        Reservation.objects.filter(pk=reservation.pk),
        status=status,
        updated_at=reservation.updated_at,
    )


def _quantities(lines: Iterable[ReservationLine]) -> dict[int, int]:
    return {line.product_id: line.quantity for line in lines}


# Reservations -------------------------------------------------------------------------


def reservation_reserve(
    *, reference: str, items: Iterable[RequestedItem], commit: bool = False
) -> tuple[Reservation, list[ReservationLine]]:
    """Hold stock for every item, or for none; returns the reservation and its lines.

    With ``commit`` the stock is sold at once (reserve and commit in one step),
    for a caller with nothing to do between the two: one call instead of two.
    The same reference with the same items answers with the existing
    reservation (stock is taken once), sold now if ``commit`` asks and it was
    only held, refused (409) if ``commit`` asks and it was released; with other
    items it is refused (422); a reference released before it was reserved is
    refused (409).
    """
    requested = normalise_items(items)
    fingerprint = items_fingerprint(requested)
    status = Status.COMMITTED if commit else Status.RESERVED
    with transaction.atomic():
        # A concurrent request with the same reference makes this wait for it, then do nothing.
        reservation = _insert_reservation(reference, fingerprint, status)
        if reservation is not None:
            return reservation, _hold(reservation, requested)
        existing = Reservation.objects.select_for_update().get(reference=reference)
        if existing.is_tombstone:
            raise Conflict("This reservation was released before it was made.")
        if existing.items_fingerprint != fingerprint:
            raise ReferenceReused()
        if commit:  # held before: sold now; sold already: the same answer; released: 409
            return _commit(existing)
        return existing, list(existing.lines.all())


def _insert_reservation(reference: str, fingerprint: str, status: str) -> Reservation | None:
    """The new reservation, or None if one with this reference exists already.

    A concurrent insert of the same reference makes this wait until that
    transaction ends; the row is then visible to the caller's next query.
    """
    now = timezone.now()
    stamp = param(Reservation, "created_at", now)
    columns = ", ".join(
        column(Reservation, field)
        for field in ("reference", "status", "items_fingerprint", "created_at", "updated_at")
    )
    # Plain SQL: the ORM cannot say whether ON CONFLICT DO NOTHING inserted the row.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(Reservation)} ({columns}) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({column(Reservation, 'reference')}) DO NOTHING RETURNING id",
            [reference, status, fingerprint, stamp, stamp],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Reservation(
        pk=row[0],
        reference=reference,
        status=status,
        items_fingerprint=fingerprint,
        created_at=now,
        updated_at=now,
    )


def _hold(reservation: Reservation, requested: Sequence[RequestedItem]) -> list[ReservationLine]:
    products = _lock_products(item.product_id for item in requested)
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
    lines = [
        ReservationLine(
            reservation=reservation,
            product_id=item.product_id,
            quantity=item.quantity,
            unit_price=products[item.product_id].price,
            name=products[item.product_id].name,
        )
        for item in requested
    ]
    sold = reservation.status == Status.COMMITTED  # reserved and committed in one step
    # One round trip while the product rows are locked: stock, lines and ledger.
    execute_together(
        [
            *_stock_moved({pk: -quantity for pk, quantity in quantities.items()}),
            insert(  # with the other writes, where bulk_create would be a round trip of its own
                ReservationLine,
                ["reservation", "product", "quantity", "unit_price", "name"],
                [
                    (reservation.pk, line.product_id, line.quantity, line.unit_price, line.name)
                    for line in lines
                ],
            ),
            _ledger([Kind.RESERVE, Kind.COMMIT] if sold else Kind.RESERVE, quantities, reservation),
        ]
    )
    return lines


def reservation_commit(*, reference: str) -> tuple[Reservation, list[ReservationLine]]:
    """Held stock becomes sold. Idempotent; a released reservation cannot be committed."""
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().filter(reference=reference).first()
        if reservation is None:
            raise ReservationNotFound()
        return _commit(reservation)


def _commit(reservation: Reservation) -> tuple[Reservation, list[ReservationLine]]:
    """Sell what the (locked) reservation holds: its move and the ledger in one round trip."""
    if reservation.status == Status.RELEASED:
        raise Conflict("This reservation was released; it cannot be committed.")
    lines = list(reservation.lines.all())
    if reservation.status == Status.RESERVED:  # committed already: the same answer
        execute_together(
            [
                _status_moved(reservation, Status.COMMITTED),
                _ledger(Kind.COMMIT, _quantities(lines), reservation),
            ]
        )
    return reservation, lines


def reservation_release(*, reference: str) -> tuple[Reservation, list[ReservationLine]]:
    """Return the stock (held, or sold for a cancelled order) exactly once.

    Releasing an unknown reference leaves a tombstone, so that the reservation,
    if it arrives later, is refused and holds nothing.
    """
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().filter(reference=reference).first()
        if reservation is None:
            tombstone = _insert_reservation(reference, "", Status.RELEASED)
            if tombstone is not None:
                return tombstone, []
            # A concurrent request inserted this reference first, and has finished.
            reservation = Reservation.objects.select_for_update().get(reference=reference)
        lines = list(reservation.lines.all())
        if reservation.status == Status.RELEASED:
            return reservation, lines
        kind = Kind.RELEASE_HELD if reservation.status == Status.RESERVED else Kind.RELEASE_SOLD
        quantities = _quantities(lines)
        _lock_products(quantities)
        # One round trip while the product rows are locked: stock, ledger and status.
        execute_together(
            [
                *_stock_moved(quantities),
                _ledger(kind, quantities, reservation),
                _status_moved(reservation, Status.RELEASED),
            ]
        )
        return reservation, lines


# Stock changes by staff ---------------------------------------------------------------


def stock_set(*, product: Product, stock: int) -> Product:
    """Set a product's on-hand stock, recording the difference as a restock or write-off."""
    with transaction.atomic():
        delta = stock - _lock_products([product.pk])[product.pk].stock
        if delta:
            kind = Kind.RESTOCK if delta > 0 else Kind.WRITE_OFF
            execute_together(
                [*_stock_moved({product.pk: delta}), _ledger(kind, {product.pk: abs(delta)})]
            )
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product
