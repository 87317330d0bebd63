"""Template filters of the storefront's pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

STATUS_LABELS = {
    "awaiting_payment": "Awaiting payment",
    "paid": "Paid",
    "shipped": "Shipped",
    "payment_failed": "Payment failed",
    "cancelled": "Cancelled",
    "confirmed": "Confirmed",
    "failed": "Failed",
    "rejected": "Not placed: out of stock",
}
PAYMENT_REASONS = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "invalid_token": "The card was not accepted.",
}


@register.filter
def money(value: Decimal | str | None) -> str:
    """``12.5`` as ``€12.50``."""
    if value is None or value == "":
        return ""
    return f"€{Decimal(value):,.2f}"


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@register.filter
def payment_reason(reason: str | None) -> str:
    if not reason:
        return ""
    return PAYMENT_REASONS.get(reason, f"The payment failed ({reason}).")


@register.filter
def add_money(value: Decimal | None, other: Decimal | None) -> Decimal:
    """The sum of two amounts (``{{ subtotal|add_money:cost }}``)."""
    return Decimal(value or 0) + Decimal(other or 0)
