"""What the events shipping consumes carry (version 1, from orders), read strictly.

Only what shipping needs is read: which order, whose, and where it goes. Data that is
not what its version promises raises :class:`~souk_common.events.envelope.MalformedEvent`:
no retry can mend it, so the consumer keeps the event as a dead letter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from souk_common.events.envelope import MalformedEvent

T = TypeVar("T")


@dataclass(frozen=True)
class PaidOrder:
    """``order.paid``: the order to ship, its owner and the country it goes to."""

    order_id: uuid.UUID
    user_id: int
    country: str


@dataclass(frozen=True)
class CancelledOrder:
    """``order.cancelled``: which order; ``was_paid`` when it had been paid (a checkout
    order paid before it was cancelled; a v1 order or an unpaid one says nothing)."""

    order_id: uuid.UUID
    user_id: int
    was_paid: bool


def paid_order(data: dict[str, Any]) -> PaidOrder:
    def read() -> PaidOrder:
        address = data["shipping_address"]
        if not isinstance(address, dict):
            raise TypeError(f"not an address: {address!r}")
        return PaidOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            country=_country(address["country"]),
        )

    return _read(read)


def cancelled_order(data: dict[str, Any]) -> CancelledOrder:
    def read() -> CancelledOrder:
        was_paid = data.get("was_paid", False)
        if not isinstance(was_paid, bool):
            raise TypeError(f"was_paid is not a boolean: {was_paid!r}")
        return CancelledOrder(
            order_id=_uuid(data["order_id"]), user_id=_id(data["user_id"]), was_paid=was_paid
        )

    return _read(read)


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except (KeyError, TypeError, ValueError) as exc:
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


def _country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, as checkout accepted it (any case)."""
    if not isinstance(value, str) or len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError(f"not a country code: {value!r}")
    return value.upper()
