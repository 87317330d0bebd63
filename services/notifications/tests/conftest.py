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


def order_event(type="order.confirmed", *, user_id=7, order_id=None, **data):
    """An order event as the orders service publishes it (version 1)."""
    return Event(
        type=type,
        source="orders",
        data={
            "order_id": str(order_id or uuid.uuid4()),
            "user_id": user_id,
            "status": "confirmed" if type == "order.confirmed" else "cancelled",
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


def registered_event(*, user_id=7):
    """``user.registered`` as the users service publishes it (version 1)."""
    return Event(
        type="user.registered",
        source="users",
        data={
            "user_id": user_id,
            "username": f"user{user_id}",
            "date_joined": "2026-11-30T10:00:00+00:00",
        },
    )
