"""Fixtures of the notifications service's tests: a real SMTP server mail is sent to, the
users service faked at its HTTP boundary, and events as their publishers send them."""

import uuid
from pathlib import Path

import pytest

from notifications.handlers import handlers
from notifications_service.settings import BASE_DIR
from souk_common.events.consume import Inbox
from souk_common.events.envelope import Event
from souk_common.settings import ServiceEnv
from souk_common.test_servers import SmtpServer


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, which the service sends to as ``EMAIL_URL`` says."""
    with SmtpServer() as server:
        email = ServiceEnv(
            "notifications",
            base_dir=Path(BASE_DIR),
            environ_={"SOUK_ENV": "development", "EMAIL_URL": server.url, "EMAIL_TIMEOUT": "5"},
        ).email()
        for name, value in email.items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def inbox():
    """The service's inbox, with its registered handlers, as its consumer hands events in."""
    return Inbox(handlers)


#: The status an order has when orders publishes each event type.
STATUS = {
    "order.confirmed": "confirmed",
    "order.cancelled": "cancelled",
    "order.paid": "paid",
    "order.payment_failed": "payment_failed",
    "order.shipped": "shipped",
}

#: A shipping address as checkout takes it.
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Rua das Flores",
    "line2": "3rd floor",
    "city": "Lisboa",
    "postal_code": "1200-195",
    "country": "PT",
}


def order_event(type="order.confirmed", *, user_id=7, order_id=None, **data):
    """An order event as the orders service publishes it (version 1)."""
    return Event(
        type=type,
        source="orders",
        data={
            "order_id": str(order_id or uuid.uuid4()),
            "user_id": user_id,
            "status": STATUS[type],
            "items": [
                {
                    "product_id": 1,
                    "name": "Sencha",
                    "unit_price": "9.50",
                    "quantity": 2,
                    "line_total": "19.00",
                },
                {
                    "product_id": 2,
                    "name": "Teapot & cups",
                    "unit_price": "1039.00",
                    "quantity": 1,
                    "line_total": "1039.00",
                },
            ],
            "total": "1058.00",
            "created_at": "2026-11-30T10:00:00+00:00",
            **data,
        },
    )


def paid_event(**data):
    """``order.paid`` for a checkout order: the two lines, with 4.90 shipping."""
    return order_event(
        "order.paid",
        **{
            "subtotal": "1058.00",
            "shipping_cost": "4.90",
            "total": "1062.90",
            "shipping_address": ADDRESS,
            "transaction_id": "txn_5c1e0b7a",
            **data,
        },
    )


def payment_failed_event(**data):
    """``order.payment_failed`` for a checkout order whose card was declined."""
    return order_event(
        "order.payment_failed", **{"total": "1062.90", "reason": "card_declined", **data}
    )


def shipped_event(**data):
    """``order.shipped`` for a checkout order handed to a carrier."""
    return order_event(
        "order.shipped",
        **{
            "total": "1062.90",
            "carrier": "CTT Expresso",
            "tracking_number": "SK4Q7M2XW9PL",
            "shipping_address": ADDRESS,
            **data,
        },
    )


def checkout_cancelled_event(**data):
    """``order.cancelled`` for a checkout order, cancelled by its owner before payment."""
    return order_event(
        "order.cancelled",
        **{
            "subtotal": "1058.00",
            "shipping_cost": "4.90",
            "total": "1062.90",
            "was_paid": False,
            "reason": "customer",
            **data,
        },
    )


def registered_event(*, user_id=7, verification_token=None):
    """``user.registered`` as the users service publishes it (version 1); with the token of
    the link that verifies the address, as it publishes it now, when one is given."""
    link = {}
    if verification_token is not None:
        link = {
            "verification_token": verification_token,
            "verification_expires_at": "2026-12-03T10:00:00+00:00",
        }
    return Event(
        type="user.registered",
        source="users",
        data={
            "user_id": user_id,
            "username": f"user{user_id}",
            "date_joined": "2026-11-30T10:00:00+00:00",
            **link,
        },
    )


def password_reset_event(*, user_id=7, reset_token="Nw.ckq1x4-0a1b2c3d4e5f", **data):
    """``user.password_reset_requested`` as the users service publishes it (version 1)."""
    return Event(
        type="user.password_reset_requested",
        source="users",
        data={
            "user_id": user_id,
            "reset_token": reset_token,
            "reset_expires_at": "2026-11-30T11:00:00+00:00",
            **data,
        },
    )


def email_changed_event(*, user_id=7, verification_token="Nw.ckq1x4-f5e4d3c2b1a0"):
    """``user.email_changed`` as the users service publishes it (version 1)."""
    return Event(
        type="user.email_changed",
        source="users",
        data={
            "user_id": user_id,
            "verification_token": verification_token,
            "verification_expires_at": "2026-12-03T10:00:00+00:00",
        },
    )
