"""What the events notifications consumes carry (version 1), read strictly into typed values.

The publishers describe them in docs/architecture.md ("Events"). Data that is not what
its version promises raises :class:`~souk_common.events.envelope.MalformedEvent`: no
retry can mend it, so the consumer keeps the event as a dead letter at its first retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from souk_common.events.envelope import MalformedEvent

CENT = Decimal("0.01")
T = TypeVar("T")


@dataclass(frozen=True)
class RegisteredUser:
    """``user.registered``: an account was made (its address is the users service's)."""

    user_id: int


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class ConfirmedOrder:
    """``order.confirmed``: the order, each line with its name and prices, and its total."""

    order_id: uuid.UUID
    user_id: int
    lines: tuple[OrderLine, ...]
    total: Decimal


@dataclass(frozen=True)
class CancelledOrder:
    """``order.cancelled``: which order, and its total if it had one."""

    order_id: uuid.UUID
    user_id: int
    total: Decimal | None


def registered_user(data: dict[str, Any]) -> RegisteredUser:
    return _read(lambda: RegisteredUser(user_id=_id(data["user_id"])))


def confirmed_order(data: dict[str, Any]) -> ConfirmedOrder:
    def read() -> ConfirmedOrder:
        lines = tuple(
            OrderLine(
                product_id=_id(item["product_id"]),
                name=_text(item["name"]),
                quantity=_id(item["quantity"]),
                unit_price=_money(item["unit_price"]),
                line_total=_money(item["line_total"]),
            )
            for item in data["items"]
        )
        if not lines:
            raise ValueError("an order with no lines")
        return ConfirmedOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            lines=lines,
            total=_money(data["total"]),
        )

    return _read(read)


def cancelled_order(data: dict[str, Any]) -> CancelledOrder:
    def read() -> CancelledOrder:
        total = data.get("total")
        return CancelledOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            total=None if total is None else _money(total),
        )

    return _read(read)


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise MalformedEvent(f"the event's data is not what version 1 promises: {exc!r}") from None


def _id(value: Any) -> int:
    """A positive whole number (an id, a quantity); never a bool or a string."""
    if type(value) is not int or value < 1:
        raise ValueError(f"not a positive integer: {value!r}")
    return value


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError(f"not an id: {value!r}")
    return uuid.UUID(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a name: {value!r}")
    return value


def _money(value: Any) -> Decimal:
    """An amount as the publishers write it: a decimal string, in cents."""
    if not isinstance(value, str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"not an amount: {value!r}")
    return amount
