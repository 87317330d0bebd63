"""Fixtures of the payments service's tests: clients signed in as users and staff, the
provider's calls counted, and order events as orders publishes them."""

import uuid

import pytest
from rest_framework.test import APIClient

from payments.handlers import handlers
from souk_common.events.consume import Inbox
from souk_common.events.envelope import Event
from tests.providers import CountingProvider

STAFF_ID = 9


def signed_in(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def alice(token_factory):
    return signed_in(token_factory.access(user_id=1, username="alice"))


@pytest.fixture
def bob(token_factory):
    return signed_in(token_factory.access(user_id=2, username="bob"))


@pytest.fixture
def users(users_service):
    """The users service, faked at the HTTP boundary: user 9 is staff there."""
    users_service.staff.add(STAFF_ID)
    return users_service


@pytest.fixture
def staff(token_factory, users):
    return signed_in(token_factory.access(user_id=STAFF_ID, username="root", is_staff=True))


@pytest.fixture
def provider(settings):
    """The mock provider, configured by its dotted path, its calls counted."""
    settings.PAYMENTS_PROVIDER = "tests.providers.CountingProvider"
    CountingProvider.reset()
    yield CountingProvider
    CountingProvider.reset()


@pytest.fixture
def inbox():
    """The service's inbox, with its registered handlers, as its consumer hands events in."""
    return Inbox(handlers)


ITEMS = [
    {"product_id": 1, "name": "Sencha", "unit_price": "9.50", "quantity": 2, "line_total": "19.00"},
    {
        "product_id": 2,
        "name": "Teapot",
        "unit_price": "39.00",
        "quantity": 1,
        "line_total": "39.00",
    },
]


def placed_event(*, order_id=None, user_id=1, card="tok_visa", total="62.90", **data):
    """``order.placed`` as orders publishes it (version 1), a new event id each time."""
    return Event(
        type="order.placed",
        source="orders",
        data={
            "order_id": str(order_id or uuid.uuid4()),
            "user_id": user_id,
            "status": "awaiting_payment",
            "items": ITEMS,
            "subtotal": "58.00",
            "shipping_cost": "4.90",
            "total": total,
            "shipping_address": {
                "name": "Alice Example",
                "line1": "1 Tea Street",
                "city": "Lisbon",
                "postal_code": "1000-001",
                "country": "PT",
            },
            "payment_token": card,
            "created_at": "2026-11-30T10:00:00+00:00",
            **data,
        },
    )


def cancelled_event(*, order_id, user_id=1, was_paid=False, total="62.90", **data):
    """``order.cancelled`` of a checkout order as orders publishes it (version 1)."""
    return Event(
        type="order.cancelled",
        source="orders",
        data={
            "order_id": str(order_id),
            "user_id": user_id,
            "status": "cancelled",
            "items": ITEMS,
            "subtotal": "58.00",
            "shipping_cost": "4.90",
            "total": total,
            "was_paid": was_paid,
            "reason": "customer",
            "created_at": "2026-11-30T10:00:00+00:00",
            **data,
        },
    )


def v1_cancelled_event(*, order_id, user_id=1):
    """``order.cancelled`` of a v1 (point-of-sale) order: no shipping, no payment."""
    return Event(
        type="order.cancelled",
        source="orders",
        data={
            "order_id": str(order_id),
            "user_id": user_id,
            "status": "cancelled",
            "items": ITEMS,
            "total": "58.00",
            "created_at": "2026-11-30T10:00:00+00:00",
        },
    )
