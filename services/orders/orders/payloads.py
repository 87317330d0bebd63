"""What the events orders consumes carry (version 1), read strictly into typed values.

payments publishes ``payment.succeeded``, ``payment.failed`` and ``payment.refunded``;
shipping publishes ``shipment.created`` (docs/architecture.md, "Events"). Data that is not
what its version promises raises :class:`~souk_common.events.envelope.MalformedEvent`: no
retry can mend it, so the consumer keeps the event as a dead letter at its first retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from souk_common.events.envelope import MalformedEvent

CENT = Decimal("0.01")
T = TypeVar("T")


@dataclass(frozen=True)
class PaymentSucceeded:
    order_id: uuid.UUID
    amount: Decimal
    transaction_id: str


@dataclass(frozen=True)
class PaymentFailed:
    order_id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class PaymentRefunded:
    order_id: uuid.UUID
    transaction_id: str


@dataclass(frozen=True)
class ShipmentCreated:
    order_id: uuid.UUID
    carrier: str
    tracking_number: str


def payment_succeeded(data: dict[str, Any]) -> PaymentSucceeded:
    return _read(
        lambda: PaymentSucceeded(
            order_id=_uuid(data["order_id"]),
            amount=_money(data["amount"]),
            transaction_id=_text(data["transaction_id"], 255),
        )
    )


def payment_failed(data: dict[str, Any]) -> PaymentFailed:
    return _read(
        lambda: PaymentFailed(order_id=_uuid(data["order_id"]), reason=_text(data["reason"], 100))
    )


def payment_refunded(data: dict[str, Any]) -> PaymentRefunded:
    return _read(
        lambda: PaymentRefunded(
            order_id=_uuid(data["order_id"]), transaction_id=_text(data["transaction_id"], 255)
        )
    )


def shipment_created(data: dict[str, Any]) -> ShipmentCreated:
    return _read(
        lambda: ShipmentCreated(
            order_id=_uuid(data["order_id"]),
            carrier=_text(data["carrier"], 100),
            tracking_number=_text(data["tracking_number"], 100),
        )
    )


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise MalformedEvent(f"the event's data is not what version 1 promises: {exc!r}") from None


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise TypeError(f"not an id: {value!r}")
    return uuid.UUID(value)


def _text(value: Any, max_length: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise ValueError(f"not a text of 1 to {max_length} characters: {value!r}")
    return value


def _money(value: Any) -> Decimal:
    """An amount as a decimal string with at most two places, never a float."""
    if not isinstance(value, str):
        raise TypeError(f"not an amount: {value!r}")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"not an amount: {value!r}")
    return amount
