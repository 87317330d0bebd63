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
from decimal import Decimal
from typing import TypeVar

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalogue.models import Product
from inventory.models import Reservation, ReservationLine, StockMovement
from souk_common.errors import ApplicationError, Conflict, ErrorCode
from souk_common.sql import Statement, column, execute_together, insert, param, table

T = TypeVar("T")
CENT = Decimal("0.01")
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


# The statements below run for every order (reserve and sell in one call; release on
# failure). They are plain SQL (souk_common.sql) because building them with the ORM
# measured at several times the cost of the statements themselves, and the writes
# made while product rows are locked go to PostgreSQL in one round trip
# (docs/benchmarks.md, "Load").


@dataclass(frozen=True)
class LockedProduct:
    """A product row held with ``FOR UPDATE`` until the transaction ends."""

    pk: int
    name: str
    price: Decimal
    stock: int
    is_active: bool


def _locked_products(product_ids: Iterable[int]) -> dict[int, LockedProduct]:
    """Lock the products in primary-key order (the one lock order every writer uses)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    columns = ", ".join(
        column(Product, field) for field in ("id", "name", "price", "stock", "is_active")
    )
    # SQLite has no FOR UPDATE: its transactions here start IMMEDIATE, holding the write lock.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {table(Product)} "  # noqa: S608
            f"WHERE id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id{lock}",
            ids,
        )
        rows = cursor.fetchall()
    # Prices as the ORM would give them: exact, with their two decimal places (SQLite
    # returns numbers as they are stored).
    return {
        pk: LockedProduct(pk, name, Decimal(str(price)).quantize(CENT), stock, bool(active))
        for pk, name, price, stock, active in rows
    }


def _stock_moved(deltas: dict[int, int]) -> Statement | None:
    """Add each delta to its product's on-hand stock, in one UPDATE."""
    if not deltas:
        return None
    stock, updated_at = column(Product, "stock"), column(Product, "updated_at")
    cases = " ".join("WHEN %s THEN %s" for _ in deltas)
    ids = ", ".join(["%s"] * len(deltas))
    return Statement(
        f"UPDATE {table(Product)} SET {stock} = {stock} + CASE id {cases} END, "  # noqa: S608
        f"{updated_at} = %s WHERE id IN ({ids})",
        [
            *(value for item in deltas.items() for value in item),
            param(Product, "updated_at", timezone.now()),
            *deltas,
        ],
    )


def _ledger(
    kind: str | Sequence[str], quantities: dict[int, int], reservation: Reservation | None = None
) -> Statement | None:
    """Ledger entries: one per product whose stock moved, for each kind of movement."""
    now = timezone.now()
    reservation_id = reservation.pk if reservation is not None else None
    kinds = [kind] if isinstance(kind, str) else kind
    return insert(
        StockMovement,
        ["product", "kind", "quantity", "reservation", "created_at"],
        [(pk, k, qty, reservation_id, now) for k in kinds for pk, qty in quantities.items() if qty],
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
            return reservation_commit(reference=reference)
        return existing, list(existing.lines.all())


def _insert_reservation(reference: str, fingerprint: str, status: str) -> Reservation | None:
    """The new reservation, or None if one with this reference exists already."""
    now = timezone.now()
    stamp = param(Reservation, "created_at", now)
    columns = ", ".join(
        column(Reservation, field)
        for field in ("reference", "status", "items_fingerprint", "created_at", "updated_at")
    )
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
    line_rows = [
        (reservation.pk, line.product_id, line.quantity, line.unit_price, line.name)
        for line in lines
    ]
    sold = reservation.status == Status.COMMITTED  # reserved and committed in one step
    # One round trip while the product rows are locked: stock, lines and ledger.
    execute_together(
        [
            _stock_moved({pk: -quantity for pk, quantity in quantities.items()}),
            insert(
                ReservationLine,
                ["reservation", "product", "quantity", "unit_price", "name"],
                line_rows,
            ),
            _ledger([Kind.RESERVE, Kind.COMMIT] if sold else Kind.RESERVE, quantities, reservation),
        ]
    )
    return lines


def reservation_commit(*, reference: str) -> tuple[Reservation, list[ReservationLine]]:
    """Held stock becomes sold. Idempotent; a released reservation cannot be committed.

    The usual case is three statements: move the reservation from reserved to
    committed (which locks it), copy its lines into the ledger, read its lines.
    """
    with transaction.atomic():
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table(Reservation)} SET {column(Reservation, 'status')} = %s, "  # noqa: S608
                f"{column(Reservation, 'updated_at')} = %s "
                f"WHERE {column(Reservation, 'reference')} = %s "
                f"AND {column(Reservation, 'status')} = %s RETURNING id",
                [
                    Status.COMMITTED,
                    param(Reservation, "updated_at", now),
                    reference,
                    Status.RESERVED,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            existing = Reservation.objects.filter(reference=reference).first()
            if existing is None:
                raise ReservationNotFound()
            if existing.status == Status.RELEASED:
                raise Conflict("This reservation was released; it cannot be committed.")
            return existing, list(existing.lines.all())  # committed already: same answer
        reservation = Reservation(
            pk=row[0], reference=reference, status=Status.COMMITTED, updated_at=now
        )
        lines = list(ReservationLine.objects.filter(reservation_id=row[0]))
        execute_together([_ledger(Kind.COMMIT, _quantities(lines), reservation)])
        return reservation, lines


def reservation_release(*, reference: str) -> tuple[Reservation, list[ReservationLine]]:
    """Return the stock (held, or sold for a cancelled order) exactly once.

    Releasing an unknown reference leaves a tombstone, so that the reservation,
    if it arrives later, is refused and holds nothing.
    """

    def release() -> tuple[Reservation, list[ReservationLine]]:
        reservation = Reservation.objects.select_for_update().filter(reference=reference).first()
        if reservation is None:
            tombstone = Reservation.objects.create(
                reference=reference, status=Status.RELEASED, items_fingerprint=""
            )
            return tombstone, []
        lines = list(reservation.lines.all())
        if reservation.status == Status.RELEASED:
            return reservation, lines
        kind = Kind.RELEASE_HELD if reservation.status == Status.RESERVED else Kind.RELEASE_SOLD
        quantities = _quantities(lines)
        _locked_products(quantities)
        execute_together([_stock_moved(quantities), _ledger(kind, quantities, reservation)])
        _set_status(reservation, Status.RELEASED)
        return reservation, lines

    return _retrying_on_insert_race(release)


def _set_status(reservation: Reservation, status: str) -> None:
    now = timezone.now()
    Reservation.objects.filter(pk=reservation.pk).update(status=status, updated_at=now)
    reservation.status, reservation.updated_at = status, now


def _quantities(lines: Iterable[ReservationLine]) -> dict[int, int]:
    return {line.product_id: line.quantity for line in lines}


# Stock changes by staff ---------------------------------------------------------------


def stock_set(*, product: Product, stock: int) -> Product:
    """Set a product's on-hand stock, recording the difference as a restock or write-off."""
    with transaction.atomic():
        locked = _locked_products([product.pk])[product.pk]
        delta = stock - locked.stock
        if delta:
            kind = Kind.RESTOCK if delta > 0 else Kind.WRITE_OFF
            execute_together(
                [_stock_moved({locked.pk: delta}), _ledger(kind, {locked.pk: abs(delta)})]
            )
    product.refresh_from_db(fields=["stock", "updated_at"])
    return product
