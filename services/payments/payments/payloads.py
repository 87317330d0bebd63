"""What the events payments consumes carry (version 1), read strictly into typed values.

Orders describes them (docs/architecture.md, "Events"). Data that is not what its
version promises raises :class:`~souk_common.events.envelope.MalformedEvent`: no retry
can mend it, so the consumer keeps the event as a dead letter at its first retry. No
message here ever quotes the payment token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from souk_common.events.envelope import REDACTED, MalformedEvent

CENT = Decimal("0.01")
#: The keys of ``order.placed``'s data that the inbox's copy keeps only until it is
#: handled (souk_common.events replaces them with ``REDACTED``).
ORDER_PLACED_SECRETS = ("payment_token",)
T = TypeVar("T")


@dataclass(frozen=True)
class PlacedOrder:
    """``order.placed``: an order waiting for its payment of ``total``.

    ``data`` is the event's data, from which :meth:`payment_token` is read only when
    the order is charged (a token removed from the inbox's copy is never needed again).
    """

    order_id: uuid.UUID
    user_id: int
    total: Decimal
    data: Mapping[str, Any] = field(repr=False)

    def payment_token(self) -> str:
        token = self.data.get("payment_token")
        if not isinstance(token, str) or not token or token == REDACTED:
            raise MalformedEvent("order.placed carries no payment token")
        return token


@dataclass(frozen=True)
class CancelledOrder:
    """``order.cancelled``: which order, its total, and whether it was a checkout order
    (one that is paid for; a point-of-sale order of v1 never is)."""

    order_id: uuid.UUID
    user_id: int
    total: Decimal | None
    checkout: bool


def placed_order(data: dict[str, Any]) -> PlacedOrder:
    return _read(
        lambda: PlacedOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            total=_money(data["total"]),
            data=data,
        )
    )


def cancelled_order(data: dict[str, Any]) -> CancelledOrder:
    def read() -> CancelledOrder:
        total = data.get("total")
        return CancelledOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            total=None if total is None else _money(total),
            # Checkout orders' cancellations say whether a refund follows; v1 orders' never.
            checkout="was_paid" in data,
        )

    return _read(read)


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise MalformedEvent(f"the event's data is not what version 1 promises: {exc!r}") from None


def _id(value: Any) -> int:
    """A positive whole number; never a bool or a string."""
    if type(value) is not int or value < 1:
        raise ValueError(f"not a positive integer: {value!r}")
    return value


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError(f"not an id: {value!r}")
    return uuid.UUID(value)


def _money(value: Any) -> Decimal:
    """An amount as orders writes it: a decimal string, in cents."""
    if not isinstance(value, str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"not an amount: {value!r}")
    return amount
