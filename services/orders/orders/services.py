"""Writes of the orders app: placing an order (a saga across services), cancelling it,
and recovering orders a crash or a hang left unsettled.

Placing an order, in short (docs/architecture.md has the diagram):

1. the account must still be active (users service);
2. the order is recorded ``pending`` with its lines, in one local transaction (with the
   Idempotency-Key, if the request has one: ``orders.idempotency``);
3. products reserves all lines or none and sells them at once, in one call
   (reference = the order id: reserve with ``commit``); its names and prices become
   the order's, and the order becomes ``confirmed``.

Short stock or unknown products make the order ``rejected``. A products service
that fails or hangs makes it ``failing``: the reservation is released (compensated)
and the order ``failed``. If even the release cannot get through, the order stays
``failing`` and ``reconcile_orders`` finishes the job later. A rejected or failed order
still reads like any other: its lines take the catalogue's names and prices, and its
total is theirs (``_settle``). Every status change
is a conditional UPDATE from the status we expect, so the saga and the recovery
can never both win.

Placing returns the confirmed order, or raises a domain error saying why not (about
the recorded order, if there is one); what the client is told, and told again under
its Idempotency-Key, is the views' and ``orders.idempotency``'s business.

Checking out (``order_checkout``) is the same saga with a cart, a payment and a shipment:

1. the account must still be active (users service);
2. the user's cart (the named guest cart merged into it first) gives the lines; an
   empty cart is refused before anything is recorded (cart service);
3. the order is recorded ``pending``, a checkout with its shipping address (and its
   Idempotency-Key);
4. products holds the lines (reference = the order id), not sold yet: its names and
   prices become the order's, and their sum its subtotal;
5. shipping quotes the subtotal to the address; a country it does not ship to makes
   the order ``rejected``, its stock released;
6. the order becomes ``awaiting_payment``, with its total (subtotal + shipping), and
   ``order.placed`` (with the payment token, for payments) is stored with the change;
7. the cart is emptied; if that fails it is logged, and the order stands.

Refusals and failures before step 6 end as in the sale's saga (``rejected``, or
``failing`` then ``failed``, with ``reconcile_orders`` finishing what a crash left).
From ``awaiting_payment`` on, the order moves with payments' and shipping's events
(``orders.handlers``): ``order_pay``, ``order_payment_fail``, ``order_payment_refund``
and ``order_ship``, each a conditional change from the status it expects, so an event
delivered twice or late changes nothing twice; a payment or shipment for an order
cancelled meanwhile is recorded on it, and the order stays cancelled. The calls they
make to products (commit, release) are idempotent by reference, safe to make again
when a handler runs again after a crash. An order left awaiting payment longer than
``CHECKOUT_PAYMENT_TIMEOUT`` is cancelled by ``reconcile_orders``.

Events (``souk.orders``, version 1), each stored in the outbox in the transaction of
the status change it describes: ``order.confirmed`` when a sale becomes confirmed,
``order.placed``, ``order.paid``, ``order.payment_failed`` and ``order.shipped`` when a
checkout becomes awaiting_payment, paid, payment_failed and shipped, and
``order.cancelled`` when an order becomes cancelled (by ``order_cancel`` or by the
recovery). Nothing is published for a rejected or failed order: an order that never
became confirmed or awaiting payment was never announced.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders import clients, idempotency
from orders.clients.cart import CartLine, GuestCartNotFound, MergeRefused
from orders.clients.products import (
    OutOfStock,
    ProductsUnavailable,
    Reservation,
    ReservationReleased,
)
from orders.clients.shipping import AddressNotShipped
from orders.models import Order, OrderLine
from souk_common import sql
from souk_common.db import release_database_connection
from souk_common.errors import (
    ApplicationError,
    Conflict,
    ErrorCode,
    InvalidInput,
    UpstreamError,
    UpstreamUnavailable,
)
from souk_common.events.models import InboxEvent
from souk_common.events.publish import event_publish_if

logger = logging.getLogger(__name__)

Status = Order.Status
Kind = Order.Kind
PaymentStatus = Order.PaymentStatus
CancelReason = Order.CancelReason
ORDER_CONFIRMED = "order.confirmed"
ORDER_CANCELLED = "order.cancelled"
ORDER_PLACED = "order.placed"
ORDER_PAID = "order.paid"
ORDER_PAYMENT_FAILED = "order.payment_failed"
ORDER_SHIPPED = "order.shipped"
#: What an order's owner may cancel (a sale once confirmed; a checkout until it ships).
CANCELLABLE = (Status.CONFIRMED, Status.AWAITING_PAYMENT, Status.PAID)
#: The columns of an order as it is recorded, pending.
ORDER_RECORDED_FIELDS = [
    "id",
    "user_id",
    "username",
    "kind",
    "status",
    "total",
    "shipping_address",
    "created_at",
    "updated_at",
]
#: What may change under a status change, and is read again when one does not happen.
_CHANGING_FIELDS = [
    "status",
    "subtotal",
    "shipping_cost",
    "total",
    "payment_status",
    "payment_transaction_id",
    "payment_reason",
    "shipment_carrier",
    "shipment_tracking_number",
    "cancel_reason",
    "placed_at",
    "updated_at",
]
ErrorT = TypeVar("ErrorT", bound=ApplicationError)

#: Run by :func:`order_place` in the transaction that records the order, before it is
#: written, with the order and its lines: it may refuse the order by raising, and what it
#: writes is recorded with the order, all or none (``idempotency.KeyClaim``).
Claim = Callable[[Order, Sequence[OrderLine]], None]


class AccountInactive(ApplicationError):
    code = ErrorCode.PERMISSION_DENIED
    default_message = "This account can no longer place orders."


class OrderOutOfStock(ApplicationError):
    code = ErrorCode.OUT_OF_STOCK
    default_message = "Not enough stock for some lines; nothing was reserved."


class UnknownProducts(ApplicationError):
    code = ErrorCode.VALIDATION_ERROR
    default_message = "Some products do not exist or are retired."


class OrderNotCancellable(Conflict):
    default_message = "Only confirmed orders can be cancelled."


class EmptyCart(ApplicationError):
    code = ErrorCode.VALIDATION_ERROR
    default_message = "Your cart is empty: there is nothing to check out."


class AddressNotShippedTo(ApplicationError):
    code = ErrorCode.VALIDATION_ERROR
    default_message = "We do not ship to this address; nothing was reserved."


class OrderNotPaidYet(Exception):
    """A shipment for an order still awaiting payment: the event is tried again later."""


class UnexpectedEvent(Exception):
    """An event that cannot be about this order as it stands (a second payment, say): it
    is retried, then kept as a dead letter for an operator to look at."""


@dataclass(frozen=True, order=True)
class RequestedLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    """A confirmed (or, checked out, awaiting_payment) order and its lines, as placing it
    left them (nothing to read again)."""

    order: Order
    lines: list[OrderLine]


@dataclass(frozen=True)
class ShippingAddress:
    """Where a checkout's order goes; ``country`` is an ISO 3166-1 alpha-2 code."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postal_code": self.postal_code,
            "country": self.country,
        }


def normalise_lines(lines: Iterable[RequestedLine]) -> tuple[RequestedLine, ...]:
    """Merge lines of the same product; sort by product id."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return tuple(RequestedLine(pid, quantity) for pid, quantity in sorted(totals.items()))


def _concerning(error: ErrorT, order: Order) -> ErrorT:
    """``error``, its details naming the recorded order it is about and where it stands."""
    error.details.update(order_id=order.reference, order_status=order.status)
    return error


def _move(
    order: Order,
    expected: str,
    new: str,
    *,
    along: Iterable[sql.Statement] = (),
    event: tuple[str, dict[str, Any]] | None = None,
    secrets: Collection[str] = (),
    **fields: Any,
) -> bool:
    """Change the status only if it still is ``expected``; say whether we did.

    This conditional UPDATE is every status change of an order, so the saga and the
    recovery can never both win. ``along``: statements sent with it in the same round
    trip, all or none (each must check for itself that the order moved). ``event``
    (type, data) is stored with the change if the order moved, and only then; its
    ``secrets`` (keys of data) are redacted in the outbox once the relay has sent it.
    """
    now = timezone.now()
    change = sql.update(
        Order.objects.filter(pk=order.pk, status=expected), status=new, updated_at=now, **fields
    )
    moving = (
        [change]
        if event is None
        else event_publish_if(change, type=event[0], data=event[1], secrets=secrets)
    )
    if sql.execute_together([*moving, *along]):
        order.status, order.updated_at = new, now
        for name, value in fields.items():
            setattr(order, name, value)
        return True
    order.refresh_from_db(fields=_CHANGING_FIELDS)  # see where it is now
    return False


def _move_and_publish(
    order: Order,
    expected: str,
    new: str,
    *,
    event: str,
    lines: Iterable[OrderLine],
    facts: dict[str, Any] | None = None,
    along: Iterable[sql.Statement] = (),
    secrets: Collection[str] = (),
    **fields: Any,
) -> bool:
    """:func:`_move`, and if the order moved, ``event`` about it: publishing is a write,
    so the status change and its event are stored all or none, in one round trip to
    PostgreSQL (``event_publish_if``).

    The event says what the order will be once moved: ``lines`` are read before;
    ``facts`` are what this event carries besides what every order event does.
    """
    data = _order_event_data(order, lines, status=new, total=fields.get("total", order.total))
    event_data = data | (facts or {})
    return _move(
        order, expected, new, along=along, event=(event, event_data), secrets=secrets, **fields
    )


def _order_event_data(
    order: Order, lines: Iterable[OrderLine], *, status: str, total: Decimal | None
) -> dict[str, Any]:
    """What every order event (version 1) carries, and all ``order.confirmed`` does: the
    order with the API's field names (its id as ``order_id``), money as decimal strings,
    its ``status`` and ``total`` as the change that publishes it leaves them."""
    return {
        "order_id": str(order.id),
        "user_id": order.user_id,
        "status": status,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "unit_price": _money(line.unit_price),
                "quantity": line.quantity,
                "line_total": _money(line.line_total),
            }
            for line in lines
        ],
        "total": _money(total),
        "created_at": order.created_at.isoformat(),
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# Placing an order ---------------------------------------------------------------------


def order_place(
    *,
    user_id: int,
    lines: Iterable[RequestedLine],
    username: str = "",
    claim: Claim | None = None,
) -> PlacedOrder:
    """Place an order for ``user_id`` (see the module docstring) and return it, confirmed.
    ``username`` (the token's) is kept on the order, for the admin to name the customer.

    Raises :class:`AccountInactive` before anything is recorded; once the order is
    recorded, every refusal or failure raised names it and its status in its details
    (``order_id``, ``order_status``). ``claim`` (see :data:`Claim`) is given the order in
    the transaction that records it.
    """
    requested = normalise_lines(lines)
    account = clients.users().account(user_id)
    if account is None or not account.is_active:
        raise AccountInactive()
    order, order_lines = _record(user_id, requested, claim, username=username)
    release_database_connection()  # not needed while products works
    _reserve_and_confirm(order, order_lines)
    return PlacedOrder(order, order_lines)


def _record(
    user_id: int,
    requested: tuple[RequestedLine, ...],
    claim: Claim | None,
    *,
    username: str = "",
    kind: str = Kind.SALE,
    shipping_address: dict[str, str] | None = None,
) -> tuple[Order, list[OrderLine]]:
    """Record the order ``pending`` with its lines (and ``claim``'s writes, if any)."""
    now = timezone.now()
    order = Order(
        user_id=user_id,
        username=username,
        kind=kind,
        status=Status.PENDING,
        shipping_address=shipping_address,
        created_at=now,
        updated_at=now,
    )
    lines = [
        OrderLine(order=order, product_id=line.product_id, quantity=line.quantity)
        for line in requested
    ]
    # Plain SQL: the order and its lines in one round trip (bulk_create takes two).
    writes = [
        sql.insert(
            Order,
            ORDER_RECORDED_FIELDS,
            [(order.id, user_id, username, kind, order.status, None, shipping_address, now, now)],
        ),
        sql.insert(
            OrderLine,
            ["order", "product_id", "quantity", "name", "unit_price"],
            [(order.id, line.product_id, line.quantity, "", None) for line in lines],
        ),
    ]
    if claim is None:
        sql.execute_together(writes)  # one round trip, all or none
        return order, lines
    with transaction.atomic():
        claim(order, lines)
        sql.execute_together(writes)
    return order, lines


def _reserve_and_confirm(order: Order, lines: list[OrderLine]) -> None:
    """Reserve and sell the lines at products, then confirm the order; or raise why not."""
    products = clients.products()
    reservation = _reserve(order, lines, commit=True)
    if reservation.status != "committed":  # held only: a products that ignored commit
        try:
            products.commit(order.reference)
        except ReservationReleased:
            raise _taken_over(order) from None
        except UpstreamError as failure:
            _compensate(order, lines)
            _concerning(failure, order)
            raise

    if not _confirm(order, lines, reservation):
        raise _taken_over(order)


def _reserve(order: Order, lines: list[OrderLine], *, commit: bool) -> Reservation:
    """The pending order's lines held at products (and sold, with ``commit``); or the
    order settled (rejected, or failed with its stock released) and an error saying why."""
    try:
        reservation = clients.products().reserve(
            order.reference, [(line.product_id, line.quantity) for line in lines], commit=commit
        )
    except OutOfStock as refused:
        _settle(order, Status.PENDING, Status.REJECTED, lines)
        short = {"lines": refused.details.get("lines", [])}
        raise _concerning(OrderOutOfStock(details=short), order) from None
    except ProductsUnavailable as refused:
        _settle(order, Status.PENDING, Status.REJECTED, lines)
        unavailable = list(refused.details.get("unavailable_products", []))
        details = {
            "items": [f"Product {pid} does not exist or is retired." for pid in unavailable],
            "unavailable_products": unavailable,
        }
        raise _concerning(UnknownProducts(details=details), order) from None
    except ReservationReleased:
        raise _taken_over(order) from None
    except UpstreamError as failure:
        _compensate(order, lines)
        _concerning(failure, order)
        raise
    if reservation.status == "released":  # a replay, after recovery released it
        raise _taken_over(order)
    return reservation


def _confirm(order: Order, lines: list[OrderLine], reservation: Reservation) -> bool:
    """Write the reserved names and prices, the total, ``confirmed`` and ``order.confirmed``,
    all or none, in one round trip; say whether the order moved.

    The order moves only if it is still ``pending`` (recovery may have taken it over
    meanwhile), and its lines get names and prices, and the event is stored, only if it did.
    """
    total = _priced(lines, reservation)
    return _move_and_publish(
        order,
        Status.PENDING,
        Status.CONFIRMED,
        event=ORDER_CONFIRMED,
        lines=lines,
        total=total,
        along=[_names_and_prices(order, lines)],
    )


def _priced(lines: list[OrderLine], reservation: Reservation) -> Decimal:
    """The reservation's names and prices on the lines; what they come to."""
    reserved = {line.product_id: line for line in reservation.lines}
    for line in lines:
        line.name = reserved[line.product_id].name
        line.unit_price = reserved[line.product_id].unit_price
    return sum(
        (line.unit_price * line.quantity for line in lines if line.unit_price is not None),
        Decimal("0.00"),
    )


def _names_and_prices(
    order: Order, lines: list[OrderLine], status: str = Status.CONFIRMED
) -> sql.Statement:
    """One UPDATE for the ``lines`` of an order (its other lines stay as they are), if it
    has just become ``status`` (confirmed, awaiting_payment; or rejected, failed).

    Plain SQL: the ORM builds this CASE (``update()`` with ``Case``/``When``, as
    ``bulk_update`` does) in about 1 ms for three lines and 6 ms for twenty, against
    20 us here, and it runs for every order.
    """
    names = " ".join("WHEN %s THEN %s" for _ in lines)
    prices = " ".join("WHEN %s THEN CAST(%s AS NUMERIC)" for _ in lines)
    params: list[Any] = [value for line in lines for value in (line.product_id, line.name)]
    params += [value for line in lines for value in (line.product_id, str(line.unit_price))]
    order_id = sql.param(Order, "id", order.id)
    params += [order_id, order_id, status]
    product_id = sql.column(OrderLine, "product_id")
    name, unit_price = sql.column(OrderLine, "name"), sql.column(OrderLine, "unit_price")
    return sql.Statement(
        f"UPDATE {sql.table(OrderLine)} SET "  # noqa: S608 - no user input in the SQL
        f"{name} = CASE {product_id} {names} ELSE {name} END, "
        f"{unit_price} = CASE {product_id} {prices} ELSE {unit_price} END "
        f"WHERE {sql.column(OrderLine, 'order')} = %s AND EXISTS (SELECT 1 FROM "
        f"{sql.table(Order)} WHERE {sql.column(Order, 'id')} = %s "
        f"AND {sql.column(Order, 'status')} = %s)",
        params,
    )


def _compensate(order: Order, lines: list[OrderLine]) -> None:
    """An upstream failed or hung mid-saga: release whatever may be held, then fail the order."""
    _release_and_settle(order, Status.FAILED, lines)


def _release_and_settle(order: Order, settled: str, lines: list[OrderLine]) -> None:
    """Take the pending order out of its saga (``failing``), release whatever may be held,
    then make it ``settled`` (failed, or rejected); if the release does not get through,
    the order stays failing, and ``reconcile_orders`` finishes the job."""
    if _move(order, Status.PENDING, Status.FAILING):
        try:
            clients.products().release(order.reference)
        except UpstreamError as exc:
            logger.warning("order %s left failing for recovery: %s", order.id, exc)
        else:
            _settle(order, Status.FAILING, settled, lines)


def _settle(order: Order, expected: str, settled: str, lines: list[OrderLine]) -> bool:
    """Make an order that sold nothing ``settled`` (rejected or failed), its lines named and
    priced, and its ``total`` (a checkout's ``subtotal`` too) what they come to: so that
    the order reads like any other (docs/architecture.md, "The order's life").

    Lines products did not price (its reservation was refused, or never made) take the
    catalogue's names and prices as they are now. A line whose product is not on sale
    (unknown or retired) has none, and then the order has no total; if the catalogue
    cannot be read, the order settles all the same, its lines unnamed.
    """
    _catalogue_priced(order, lines)
    priced = [line for line in lines if line.unit_price is not None]
    totals = [line.line_total for line in priced]
    total = None if len(priced) < len(lines) else sum(filter(None, totals), Decimal("0.00"))
    fields: dict[str, Any] = {"total": total}
    if order.kind == Kind.CHECKOUT:
        fields["subtotal"] = total  # no shipping was quoted, or it is not owed
    along = [_names_and_prices(order, priced, settled)] if priced else []
    return _move(order, expected, settled, along=along, **fields)


def _catalogue_priced(order: Order, lines: list[OrderLine]) -> None:
    """Name and price the ``lines`` no reservation priced from products' catalogue, as far
    as it can tell (best effort: the order settles whatever it says)."""
    unpriced = [line for line in lines if line.unit_price is None]
    if not unpriced:
        return
    try:
        on_sale = clients.products().catalogue(line.product_id for line in unpriced)
    except UpstreamError as exc:
        logger.warning("order %s settles with its lines unnamed: %s", order.id, exc)
        return
    for line in unpriced:
        product = on_sale.get(line.product_id)
        if product is not None:
            line.name, line.unit_price = product.name, product.price


def _taken_over(order: Order) -> UpstreamUnavailable:
    """Recovery settled this order while we were slow: say it failed."""
    order.refresh_from_db()
    return _concerning(UpstreamUnavailable("The order could not be completed in time."), order)


# Checking out ---------------------------------------------------------------------------


def order_checkout(
    *,
    user_id: int,
    shipping_address: ShippingAddress,
    payment_token: str,
    cart_id: str | None = None,
    username: str = "",
    claim: Claim | None = None,
) -> PlacedOrder:
    """Check out the user's cart (with the guest cart ``cart_id`` merged into it first):
    the order ``awaiting_payment``, its stock held, ``order.placed`` stored with it, and
    the cart emptied (see the module docstring).

    Raises :class:`AccountInactive`, :class:`EmptyCart`, ``InvalidInput`` (an unknown guest
    cart) or the cart service's failure before anything is recorded; once the order is
    recorded, every refusal or failure raised names it and its status in its details.
    ``payment_token`` goes to payments in ``order.placed``: kept in the outbox only until
    the relay has sent it, and stored nowhere else.
    """
    account = clients.users().account(user_id)
    if account is None or not account.is_active:
        raise AccountInactive()
    requested = normalise_lines(
        RequestedLine(line.product_id, line.quantity) for line in _cart_lines(user_id, cart_id)
    )
    if not requested:
        raise EmptyCart(details={"cart": ["Your cart is empty."]})
    order, lines = _record(
        user_id,
        requested,
        claim,
        username=username,
        kind=Kind.CHECKOUT,
        shipping_address=shipping_address.as_json(),
    )
    release_database_connection()  # not needed while products and shipping work
    _hold_quote_and_place(order, lines, shipping_address, payment_token)
    try:
        clients.cart().empty(user_id)
    except UpstreamError as exc:
        logger.warning("order %s placed, but its cart was not emptied: %s", order.id, exc)
    return PlacedOrder(order, lines)


def _cart_lines(user_id: int, cart_id: str | None) -> tuple[CartLine, ...]:
    """The lines of the user's cart, after merging the guest cart ``cart_id`` into it."""
    carts = clients.cart()
    if cart_id is None:
        return carts.user_cart(user_id).lines
    try:
        return carts.merge(user_id, cart_id).lines
    except GuestCartNotFound:
        unknown = "No guest cart has this id: it is unknown or has expired."
        raise InvalidInput(unknown, details={"cart_id": [unknown]}) from None
    except MergeRefused as refused:
        raise InvalidInput(refused.message, details={"cart_id": [refused.message]}) from None


def _hold_quote_and_place(
    order: Order, lines: list[OrderLine], address: ShippingAddress, payment_token: str
) -> None:
    """Hold the lines at products, have shipping quote them, then make the order
    ``awaiting_payment`` with ``order.placed``; or settle it and raise why not."""
    reservation = _reserve(order, lines, commit=False)
    subtotal = _priced(lines, reservation)
    try:
        quote = clients.shipping().quote(
            subtotal=subtotal,
            item_count=sum(line.quantity for line in lines),
            country=address.country,
            postal_code=address.postal_code,
        )
    except AddressNotShipped as refused:
        _release_and_settle(order, Status.REJECTED, lines)
        error = AddressNotShippedTo(details={"shipping_address": refused.details})
        raise _concerning(error, order) from None
    except UpstreamError as failure:
        _compensate(order, lines)
        _concerning(failure, order)
        raise

    total = subtotal + quote.cost
    placed = _move_and_publish(
        order,
        Status.PENDING,
        Status.AWAITING_PAYMENT,
        event=ORDER_PLACED,
        lines=lines,
        facts={
            "subtotal": _money(subtotal),
            "shipping_cost": _money(quote.cost),
            "shipping_address": address.as_json(),
            "payment_token": payment_token,
        },
        secrets=("payment_token",),
        subtotal=subtotal,
        shipping_cost=quote.cost,
        total=total,
        placed_at=timezone.now(),
        along=[_names_and_prices(order, lines, Status.AWAITING_PAYMENT)],
    )
    if not placed:
        raise _taken_over(order)


# Payments' and shipping's events --------------------------------------------------------


def order_pay(*, order_id: uuid.UUID, transaction_id: str, amount: Decimal) -> Order:
    """payment.succeeded: an order awaiting payment has its stock sold (committed at
    products) and becomes ``paid``, with ``order.paid``. For an order cancelled meanwhile
    (by its owner, or for want of a payment in time) the payment is recorded and the order
    stays cancelled: payments refunds it on the ``order.cancelled`` it gets. Told again:
    nothing changes."""
    order = _checkout_order(order_id)
    if order.status == Status.AWAITING_PAYMENT:
        if amount != order.total:
            raise UnexpectedEvent(f"order {order.id} costs {order.total}, {amount} was paid")
        try:
            clients.products().commit(order.reference)  # the same again if run again
        except ReservationReleased:
            order.refresh_from_db(fields=_CHANGING_FIELDS)  # cancelled meanwhile, surely
        else:
            lines = list(order.lines.all())
            paid = _move_and_publish(
                order,
                Status.AWAITING_PAYMENT,
                Status.PAID,
                event=ORDER_PAID,
                lines=lines,
                facts={
                    "subtotal": _money(order.subtotal),
                    "shipping_cost": _money(order.shipping_cost),
                    "shipping_address": order.shipping_address,
                    "transaction_id": transaction_id,
                },
                payment_status=PaymentStatus.SUCCEEDED,
                payment_transaction_id=transaction_id,
            )
            if paid:
                return order
    if order.status in (Status.PAID, Status.SHIPPED):
        if order.payment_transaction_id != transaction_id:
            raise UnexpectedEvent(f"order {order.id} was paid already, by another payment")
        return order  # told already
    if order.status in (Status.CANCELLING, Status.CANCELLED):
        # Never over a refund that arrived first.
        Order.objects.filter(pk=order.pk).exclude(payment_status=PaymentStatus.REFUNDED).update(
            payment_status=PaymentStatus.SUCCEEDED,
            payment_transaction_id=transaction_id,
            updated_at=timezone.now(),
        )
        logger.info("order %s was paid once cancelled: payments refunds it", order.id)
        return order
    raise UnexpectedEvent(f"a payment succeeded for order {order.id}, which is {order.status}")


def order_payment_fail(*, order_id: uuid.UUID, reason: str) -> Order:
    """payment.failed: an order awaiting payment has its stock released and becomes
    ``payment_failed`` with the reason, with ``order.payment_failed``. Ignored for an order
    paid already; recorded on one cancelled meanwhile. Told again: nothing changes."""
    order = _checkout_order(order_id)
    if order.status == Status.AWAITING_PAYMENT:
        clients.products().release(order.reference)  # the same again if run again
        lines = list(order.lines.all())
        failed = _move_and_publish(
            order,
            Status.AWAITING_PAYMENT,
            Status.PAYMENT_FAILED,
            event=ORDER_PAYMENT_FAILED,
            lines=lines,
            facts={"reason": reason},
            payment_status=PaymentStatus.FAILED,
            payment_reason=reason,
        )
        if failed:
            return order
    if order.status in (Status.CANCELLING, Status.CANCELLED):
        Order.objects.filter(pk=order.pk, payment_status=PaymentStatus.NONE).update(
            payment_status=PaymentStatus.FAILED, payment_reason=reason, updated_at=timezone.now()
        )
    return order  # paid or shipped: a failure after a success changes nothing


def order_payment_refund(*, order_id: uuid.UUID, transaction_id: str) -> Order:
    """payment.refunded: the order's payment is recorded as refunded (a cancelled order's,
    as payments refunds only those). Told again: nothing changes."""
    order = _checkout_order(order_id)
    if order.status not in (Status.CANCELLING, Status.CANCELLED):
        logger.warning("order %s, %s, had its payment refunded", order.id, order.status)
    Order.objects.filter(pk=order.pk).update(
        payment_status=PaymentStatus.REFUNDED,
        payment_transaction_id=transaction_id,
        updated_at=timezone.now(),
    )
    order.refresh_from_db(fields=_CHANGING_FIELDS)
    return order


def order_ship(*, order_id: uuid.UUID, carrier: str, tracking_number: str) -> Order:
    """shipment.created: a paid order becomes ``shipped``, with ``order.shipped``. One still
    awaiting payment raises :class:`OrderNotPaidYet` (the event is tried again later); one
    cancelled meanwhile records the shipment and stays cancelled (shipping cancels it on the
    ``order.cancelled`` it gets). Told again: nothing changes."""
    order = _checkout_order(order_id)
    if order.status == Status.PAID:
        lines = list(order.lines.all())
        shipped = _move_and_publish(
            order,
            Status.PAID,
            Status.SHIPPED,
            event=ORDER_SHIPPED,
            lines=lines,
            facts={
                "carrier": carrier,
                "tracking_number": tracking_number,
                "shipping_address": order.shipping_address,
            },
            shipment_carrier=carrier,
            shipment_tracking_number=tracking_number,
        )
        if shipped:
            return order
    if order.status == Status.SHIPPED:
        return order  # told already
    if order.status == Status.AWAITING_PAYMENT:
        raise OrderNotPaidYet(f"order {order.id} is not paid yet; its shipment waits")
    if order.status in (Status.CANCELLING, Status.CANCELLED):
        Order.objects.filter(pk=order.pk, shipment_tracking_number="").update(
            shipment_carrier=carrier,
            shipment_tracking_number=tracking_number,
            updated_at=timezone.now(),
        )
        return order
    raise UnexpectedEvent(f"a shipment was created for order {order.id}, which is {order.status}")


def _checkout_order(order_id: uuid.UUID) -> Order:
    """The checkout an event is about; :class:`UnexpectedEvent` if there is none."""
    order = Order.objects.filter(pk=order_id, kind=Kind.CHECKOUT).first()
    if order is None:
        raise UnexpectedEvent(f"no checkout order {order_id}")
    return order


# Cancelling -----------------------------------------------------------------------------


def order_cancel(*, order: Order) -> Order:
    """Cancel an order not yet shipped (a confirmed sale; a checkout awaiting payment or
    paid) and return its stock; cancelling again changes nothing.

    A paid order's payment is refunded by payments, on the ``order.cancelled`` it gets.
    """
    if order.status == Status.CANCELLED:
        return order
    for _ in CANCELLABLE:  # a miss finds the order further on (awaiting payment -> paid)
        if order.status not in CANCELLABLE or _move(
            order, order.status, Status.CANCELLING, cancel_reason=CancelReason.CUSTOMER
        ):
            break
    if order.status == Status.CANCELLED:
        return order
    if order.status != Status.CANCELLING:
        raise OrderNotCancellable(_not_cancellable(order))
    # If this fails the order stays cancelling: a retry or reconcile_orders finishes it.
    release_database_connection()
    clients.products().release(order.reference)
    _finish_cancelling(order)
    return order


def _not_cancellable(order: Order) -> str:
    if order.kind == Kind.SALE:
        return f"This order is {order.status}; only confirmed orders can be cancelled."
    return (
        f"This order is {order.status}; only an order awaiting payment or paid, "
        "not yet shipped, can be cancelled."
    )


def _finish_cancelling(order: Order) -> bool:
    """A cancelling order whose stock is released becomes ``cancelled``, with
    ``order.cancelled``: the one place it happens (``order_cancel`` and the recovery).

    A checkout's event says besides why (``reason``) and whether its payment went
    through (``was_paid``: payments refunds it)."""
    facts = None
    if order.kind == Kind.CHECKOUT:
        facts = {
            "subtotal": _money(order.subtotal),
            "shipping_cost": _money(order.shipping_cost),
            "was_paid": order.payment_status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED),
            "reason": str(order.cancel_reason or CancelReason.CUSTOMER),
        }
    return _move_and_publish(
        order,
        Status.CANCELLING,
        Status.CANCELLED,
        event=ORDER_CANCELLED,
        lines=order.lines.all(),
        facts=facts,
    )


# Recovery -------------------------------------------------------------------------------


def orders_reconcile(
    *, grace: timedelta, payment_timeout: timedelta | None = None, limit: int = 200
) -> dict[str, int]:
    """Settle orders left pending for longer than ``grace``, and any failing or cancelling;
    then cancel checkouts awaiting payment for longer than ``payment_timeout``
    (``CHECKOUT_PAYMENT_TIMEOUT`` unless given).

    A pending order may still be in its saga, hence the grace; failing and
    cancelling ones only wait for a release, which is safe to send twice. Each
    is released at products (idempotent, and safe before a reservation that
    never arrived), then marked failed or cancelled. An order whose release
    does not get through is left for the next run. A checkout cancelled for want of
    a payment publishes ``order.cancelled`` with the reason ``payment_timeout``; a
    payment that succeeds after that is refunded by payments.
    """
    counts = {"failed": 0, "cancelled": 0, "left": 0}
    cutoff = timezone.now() - grace
    stuck = Order.objects.filter(
        Q(status=Status.PENDING, updated_at__lt=cutoff)
        | Q(status__in=[Status.FAILING, Status.CANCELLING])
    )
    for order in stuck.order_by("updated_at")[:limit]:
        if order.status == Status.PENDING and not _move(order, Status.PENDING, Status.FAILING):
            continue  # the saga finished it meanwhile
        settled = Status.CANCELLED if order.status == Status.CANCELLING else Status.FAILED
        try:
            clients.products().release(order.reference)
        except UpstreamError as exc:
            logger.warning("order %s still unsettled: %s", order.id, exc)
            counts["left"] += 1
            continue
        moved = (
            _finish_cancelling(order)
            if settled == Status.CANCELLED
            else _settle(order, Status.FAILING, Status.FAILED, list(order.lines.all()))
        )
        if moved:
            counts[settled] += 1
            logger.info("order %s settled as %s by recovery", order.id, settled)
        if settled == Status.FAILED:
            error = UpstreamUnavailable("The order could not be completed; nothing was charged.")
            idempotency.settle(order, _concerning(error, order))
    if payment_timeout is None:
        payment_timeout = timedelta(seconds=settings.CHECKOUT_PAYMENT_TIMEOUT)
    _cancel_unpaid(timezone.now() - payment_timeout, limit, counts)
    return counts


def _payment_waiting(order: Order) -> bool:
    """Whether a ``payment.succeeded`` for ``order`` was received and not yet handled:
    retrying, or a dead letter (its handler failed, and rolled back what it did)."""
    return InboxEvent.objects.filter(
        type="payment.succeeded",
        state__in=(InboxEvent.State.RETRYING, InboxEvent.State.DEAD),
        envelope__data__order_id=str(order.id),
    ).exists()


def _cancel_unpaid(placed_before: datetime, limit: int, counts: dict[str, int]) -> None:
    """Cancel checkouts placed before ``placed_before`` still awaiting payment."""
    unpaid = Order.objects.filter(status=Status.AWAITING_PAYMENT, placed_at__lt=placed_before)
    for order in unpaid.order_by("placed_at")[:limit]:
        if _payment_waiting(order):
            # Its outcome came, and its handling waits for a retry (products down, say) or
            # an operator's replay: the customer paid; the order is not timed out.
            logger.warning("order %s: its payment came and waits in the inbox", order.id)
            continue
        timed_out = CancelReason.PAYMENT_TIMEOUT
        if not _move(order, Status.AWAITING_PAYMENT, Status.CANCELLING, cancel_reason=timed_out):
            continue  # paid, or failed, or cancelled meanwhile
        try:
            clients.products().release(order.reference)
        except UpstreamError as exc:
            logger.warning("order %s still unsettled: %s", order.id, exc)
            counts["left"] += 1
            continue  # cancelling: the next run finishes it
        if _finish_cancelling(order):
            counts["cancelled"] += 1
            logger.info("order %s cancelled: no payment in time", order.id)
