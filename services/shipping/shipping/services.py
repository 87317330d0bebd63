"""The shipping app's rules: what shipping costs (quotes), and shipping paid orders.

They speak the domain: a refusal is a domain error (a ``souk_common.errors`` class with a
stable code), never an HTTP answer; a transaction is opened here, around exactly the work
that must be atomic.

The rule of a quote, deterministic (the same order to the same country always costs the
same, for as long as the country's rate is unchanged)::

    cost = base_cost + per_item_cost * item_count      (the country's ShippingRate)
    cost = 0.00                                         when subtotal >= free_over

``item_count`` is the number of units (the sum of the lines' quantities) and
``subtotal`` what they cost at the catalogue's prices; a rate with no ``free_over``
never ships free. A country with no rate is not shipped to (400, ``address.country``).
The public quote prices the lines itself (products' public catalogue); the internal one,
for checkout, is given the subtotal and item count of the stock it reserved.

Shipping an order: ``order.paid`` makes the order's one shipment (``shipment_create``),
with the carrier of its country's rate and an unguessable tracking number, and publishes
``shipment.created`` (``souk.shipping``, version 1) in the same transaction;
``order.cancelled`` marks it cancelled (``shipment_cancel``), publishing nothing.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from shipping import clients, selectors
from shipping.models import Shipment, ShippingRate
from souk_common.errors import InvalidInput
from souk_common.events.publish import event_publish

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
SHIPMENT_CREATED = "shipment.created"
#: Tracking numbers: a prefix and 16 characters from 32 unambiguous ones (80 random bits).
TRACKING_PREFIX = "SK"
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TRACKING_LENGTH = 16
# Drawing a tracking number in use is a 1 in 2**80 event; three draws are plenty.
TRACKING_DRAWS = 3


class UnsupportedCountry(InvalidInput):
    """The shop does not ship to this country (it has no rate)."""

    def __init__(self, country: str) -> None:
        super().__init__(
            f"We do not ship to {country}.",
            details={"address": {"country": [f"We do not ship to {country}."]}},
        )


class UnknownProducts(InvalidInput):
    """Some lines name products that do not exist or are retired; ``details`` names them."""

    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(
            "Some products do not exist or are retired.",
            details={
                "items": [f"Product {pid} does not exist or is retired." for pid in product_ids],
                "unavailable_products": product_ids,
            },
        )


@dataclass(frozen=True)
class QuoteLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class Quote:
    """What shipping an order to ``country`` costs, by which carrier, in how many days."""

    country: str
    carrier: str
    cost: Decimal
    estimated_days: int
    free_over: Decimal | None


def quote_calculate(*, country: str, subtotal: Decimal, item_count: int) -> Quote:
    """The quote for ``item_count`` items worth ``subtotal`` shipped to ``country``
    (the module's rule); :class:`UnsupportedCountry` if the shop does not ship there."""
    rate = _rate(country)
    return _quote(rate, subtotal=subtotal, item_count=item_count)


def quote_for_items(*, country: str, lines: Iterable[QuoteLine]) -> Quote:
    """The quote for these lines shipped to ``country``, priced by the products service.

    An unsupported country is refused before products is asked; a product that does
    not exist or is retired is :class:`UnknownProducts`; a products service that cannot
    answer raises its upstream error (503, 504 or 502).
    """
    rate = _rate(country)
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    on_sale = clients.products().on_sale(quantities)
    unavailable = sorted(pid for pid in quantities if pid not in on_sale)
    if unavailable:
        raise UnknownProducts(unavailable)
    subtotal = sum(
        (on_sale[pid].price * quantity for pid, quantity in quantities.items()), Decimal("0")
    )
    return _quote(rate, subtotal=subtotal, item_count=sum(quantities.values()))


def _rate(country: str) -> ShippingRate:
    rate = selectors.rate_for_country(country=country)
    if rate is None:
        raise UnsupportedCountry(country.upper())
    return rate


def _quote(rate: ShippingRate, *, subtotal: Decimal, item_count: int) -> Quote:
    if rate.free_over is not None and subtotal >= rate.free_over:
        cost = Decimal("0")
    else:
        cost = rate.base_cost + rate.per_item_cost * item_count
    return Quote(
        country=rate.country,
        carrier=rate.carrier,
        cost=cost.quantize(CENT),
        estimated_days=rate.estimated_days,
        free_over=rate.free_over,
    )


def tracking_number_new() -> str:
    """A fresh tracking number, e.g. ``SK7HQ2M9XKD4RB8N3T``: unguessable, not checked for use."""
    return TRACKING_PREFIX + "".join(
        secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH)
    )


def shipment_create(*, order_id: uuid.UUID, user_id: int, country: str) -> Shipment:
    """Ship a paid order: its one shipment, by the carrier of its country's rate, with
    ``shipment.created`` published in the same transaction.

    Once per order: an order that has a shipment (made by an earlier delivery or another
    event about the same payment, or cancelled before it was paid for here) gets nothing
    more, and its existing shipment is returned. A country with no rate (removed since
    checkout) raises :class:`UnsupportedCountry`: the event is retried, then kept as a
    dead letter for an operator to replay once the country has a rate again.
    """
    with transaction.atomic():
        existing = selectors.shipment_for_order(order_id=order_id)
        if existing is not None:
            return existing
        rate = _rate(country)
        for _ in range(TRACKING_DRAWS):
            try:
                # A savepoint: a refused insert leaves the caller's transaction usable.
                with transaction.atomic():
                    shipment = Shipment.objects.create(
                        order_id=order_id,
                        user_id=user_id,
                        country=rate.country,
                        carrier=rate.carrier,
                        tracking_number=tracking_number_new(),
                        estimated_days=rate.estimated_days,
                        status=Shipment.Status.CREATED,
                    )
                    event_publish(type=SHIPMENT_CREATED, data=_shipment_created(shipment))
            except IntegrityError:
                existing = selectors.shipment_for_order(order_id=order_id)
                if existing is not None:
                    return existing  # made meanwhile, by another delivery: that one stands
                continue  # the tracking number was in use: draw another
            logger.info(
                "order %s ships by %s as %s", order_id, rate.carrier, shipment.tracking_number
            )
            return shipment
    raise RuntimeError(f"no unused tracking number in {TRACKING_DRAWS} draws")


def shipment_cancel(*, order_id: uuid.UUID, user_id: int, was_paid: bool) -> Shipment | None:
    """The order was cancelled: its shipment, if it has one, is cancelled (no event).

    A paid order with no shipment yet (its ``order.paid`` is late, waiting for a retry)
    gets a cancelled shipment with no tracking number, so that the late event ships
    nothing. An order never paid for has no shipment and gets none.
    """
    with transaction.atomic():
        if was_paid:
            # Made first, or found: one being made by order.paid meanwhile is waited for,
            # so the update below sees it, whichever event came first.
            Shipment.objects.get_or_create(
                order_id=order_id,
                defaults={"user_id": user_id, "status": Shipment.Status.CANCELLED},
            )
        Shipment.objects.filter(order_id=order_id, status=Shipment.Status.CREATED).update(
            status=Shipment.Status.CANCELLED, updated_at=timezone.now()
        )
        return selectors.shipment_for_order(order_id=order_id)


def _shipment_created(shipment: Shipment) -> dict[str, object]:
    """The data of ``shipment.created`` (version 1)."""
    return {
        "shipment_id": shipment.pk,
        "order_id": str(shipment.order_id),
        "user_id": shipment.user_id,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "estimated_days": shipment.estimated_days,
    }
