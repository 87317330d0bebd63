"""What the events notifications consumes carry (version 1), read strictly into typed values.

The publishers describe them in docs/architecture.md ("Events"). Data that is not what
its version promises raises :class:`~souk_common.events.envelope.MalformedEvent`: no
retry can mend it, so the consumer keeps the event as a dead letter at its first retry.
Only what a mail shows is read; keys it does not show may be anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from souk_common.events.envelope import MalformedEvent

CENT = Decimal("0.01")
T = TypeVar("T")


@dataclass(frozen=True)
class AccountLink:
    """A link the users service asks to mail: its token (a secret of the event, kept
    nowhere here) and when it stops working."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class RegisteredUser:
    """``user.registered``: an account was made (its address is the users service's), and
    the link that verifies its address (none in an event published before there were any)."""

    user_id: int
    verification: AccountLink | None = None


@dataclass(frozen=True)
class PasswordResetRequest:
    """``user.password_reset_requested``: the link that sets a new password."""

    user_id: int
    reset: AccountLink


@dataclass(frozen=True)
class EmailChange:
    """``user.email_changed``: the account has a new, unverified address, and the link that
    verifies it."""

    user_id: int
    verification: AccountLink


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
class ShippingAddress:
    """Where a checkout order goes, as the customer wrote it at checkout."""

    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class PaidOrder:
    """``order.paid``: a checkout order whose payment succeeded: its lines, what it cost
    with shipping, and where it goes."""

    order_id: uuid.UUID
    user_id: int
    lines: tuple[OrderLine, ...]
    subtotal: Decimal
    shipping_cost: Decimal
    total: Decimal
    shipping_address: ShippingAddress


@dataclass(frozen=True)
class PaymentFailedOrder:
    """``order.payment_failed``: a checkout order whose payment was declined, and the
    provider's reason (a code: ``card_declined``, ``insufficient_funds``, ...)."""

    order_id: uuid.UUID
    user_id: int
    total: Decimal
    reason: str


@dataclass(frozen=True)
class ShippedOrder:
    """``order.shipped``: a paid order handed to a carrier, with its tracking number."""

    order_id: uuid.UUID
    user_id: int
    carrier: str
    tracking_number: str
    shipping_address: ShippingAddress


@dataclass(frozen=True)
class CancelledOrder:
    """``order.cancelled``: which order, and its total if it had one.

    A checkout order's event says too whether it was paid (``was_paid``: a refund
    follows) and why it was cancelled (``reason``: ``customer`` or ``payment_timeout``);
    a v1 order's says neither, read as not paid and no reason given.
    """

    order_id: uuid.UUID
    user_id: int
    total: Decimal | None
    was_paid: bool = False
    reason: str | None = None


def registered_user(data: dict[str, Any]) -> RegisteredUser:
    return _read(
        lambda: RegisteredUser(
            user_id=_id(data["user_id"]),
            verification=_link(data, "verification") if "verification_token" in data else None,
        )
    )


def password_reset_request(data: dict[str, Any]) -> PasswordResetRequest:
    return _read(
        lambda: PasswordResetRequest(user_id=_id(data["user_id"]), reset=_link(data, "reset"))
    )


def email_change(data: dict[str, Any]) -> EmailChange:
    return _read(
        lambda: EmailChange(user_id=_id(data["user_id"]), verification=_link(data, "verification"))
    )


def confirmed_order(data: dict[str, Any]) -> ConfirmedOrder:
    return _read(
        lambda: ConfirmedOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            lines=_lines(data["items"]),
            total=_money(data["total"]),
        )
    )


def paid_order(data: dict[str, Any]) -> PaidOrder:
    return _read(
        lambda: PaidOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            lines=_lines(data["items"]),
            subtotal=_money(data["subtotal"]),
            shipping_cost=_money(data["shipping_cost"]),
            total=_money(data["total"]),
            shipping_address=_address(data["shipping_address"]),
        )
    )


def payment_failed_order(data: dict[str, Any]) -> PaymentFailedOrder:
    return _read(
        lambda: PaymentFailedOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            total=_money(data["total"]),
            reason=_text(data["reason"]),
        )
    )


def shipped_order(data: dict[str, Any]) -> ShippedOrder:
    return _read(
        lambda: ShippedOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            carrier=_text(data["carrier"]),
            tracking_number=_text(data["tracking_number"]),
            shipping_address=_address(data["shipping_address"]),
        )
    )


def cancelled_order(data: dict[str, Any]) -> CancelledOrder:
    def read() -> CancelledOrder:
        total = data.get("total")
        was_paid = data.get("was_paid", False)  # a v1 order's event has none: never paid
        if type(was_paid) is not bool:
            raise ValueError(f"not a yes or no: {was_paid!r}")
        reason = data.get("reason")
        return CancelledOrder(
            order_id=_uuid(data["order_id"]),
            user_id=_id(data["user_id"]),
            total=None if total is None else _money(total),
            was_paid=was_paid,
            # Any reason is read (one added later is mailed as a plain cancellation).
            reason=None if reason is None else _text(reason),
        )

    return _read(read)


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise MalformedEvent(f"the event's data is not what version 1 promises: {exc!r}") from None


def _lines(items: Any) -> tuple[OrderLine, ...]:
    """An order's lines, each with its name and prices; an order has at least one."""
    lines = tuple(
        OrderLine(
            product_id=_id(item["product_id"]),
            name=_text(item["name"]),
            quantity=_id(item["quantity"]),
            unit_price=_money(item["unit_price"]),
            line_total=_money(item["line_total"]),
        )
        for item in items
    )
    if not lines:
        raise ValueError("an order with no lines")
    return lines


def _address(value: Any) -> ShippingAddress:
    """A shipping address as checkout takes it; ``line2`` may be absent, null or empty."""
    if not isinstance(value, dict):
        raise ValueError(f"not an address: {value!r}")
    line2 = value.get("line2")
    if line2 is not None and not isinstance(line2, str):
        raise ValueError(f"not an address line: {line2!r}")
    return ShippingAddress(
        name=_text(value["name"]),
        line1=_text(value["line1"]),
        line2=line2 if line2 and line2.strip() else None,
        city=_text(value["city"]),
        postal_code=_text(value["postal_code"]),
        country=_text(value["country"]),
    )


def _link(data: dict[str, Any], name: str) -> AccountLink:
    """The link ``name``: its ``<name>_token`` and ``<name>_expires_at``."""
    return AccountLink(
        token=_text(data[f"{name}_token"]), expires_at=_moment(data[f"{name}_expires_at"])
    )


def _moment(value: Any) -> datetime:
    """A moment as the publishers write it: ISO 8601 with its offset."""
    if not isinstance(value, str):
        raise ValueError(f"not a moment: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a moment with no offset: {value!r}")
    return moment


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
    """Words that must be there: a name, a carrier, a tracking number, a reason."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a text: {value!r}")
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
