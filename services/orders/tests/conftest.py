"""Fixtures of the orders service's tests: signed-in clients, faked upstreams, and the
inbox events are handed to."""

import uuid

import pytest
from rest_framework.test import APIClient

from orders import clients
from orders.handlers import handlers
from souk_common.events.consume import Inbox
from souk_common.events.envelope import Event
from tests.fakes import (
    FakeCart,
    FakeProducts,
    FakeShipping,
    FakeUsers,
    install,
    install_cart,
    install_shipping,
)

STAFF_ID = 99


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Each test gets new upstream clients: closed breakers, no cached service token."""
    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def upstreams(fake_service, users_server, settings):
    """The users and products services, faked; every other HTTP call fails the test.

    users is the plugin's fake (``users_server``), which staff also sign in to the admin
    with: one users service, whichever fixture asked for it first."""
    products, users = FakeProducts(), FakeUsers(staff={STAFF_ID})
    products.add(1, "Sencha", "9.50", stock=10)
    products.add(2, "Teapot", "39.00", stock=2)
    products.add(3, "Retired tray", "27.50", stock=5, is_active=False)
    products_server = fake_service()
    install(products_server, users_server, products, users)
    settings.PRODUCTS_URL, settings.USERS_URL = products_server.url, users_server.url
    settings.SOUK = {**settings.SOUK, "USERS_URL": users_server.url}
    clients.reset()
    return products, users


@pytest.fixture
def products(upstreams):
    return upstreams[0]


@pytest.fixture
def cart(fake_service, settings):
    """The cart service, faked: users' and guests' carts."""
    cart, server = FakeCart(), fake_service()
    install_cart(server, cart)
    settings.CART_URL = server.url
    clients.reset()
    return cart


@pytest.fixture
def shipping(fake_service, settings):
    """The shipping service, faked: it ships to FR and GB."""
    shipping, server = FakeShipping(), fake_service()
    install_shipping(server, shipping)
    settings.SHIPPING_URL = server.url
    clients.reset()
    return shipping


@pytest.fixture
def shop(upstreams, cart, shipping):
    """Every service a checkout calls, faked: users, products, cart and shipping."""
    return upstreams


@pytest.fixture
def inbox():
    """The service's inbox, with its registered handlers, as its consumer hands events in."""
    return Inbox(handlers)


@pytest.fixture
def users(upstreams):
    return upstreams[1]


def client_for(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def alice(token_factory):
    return client_for(token_factory.access(user_id=1, username="alice"))


@pytest.fixture
def bob(token_factory):
    return client_for(token_factory.access(user_id=2, username="bob"))


@pytest.fixture
def staff(token_factory, upstreams):
    """A staff member, as the token and the (faked) users service say."""
    return client_for(token_factory.access(user_id=STAFF_ID, username="root", is_staff=True))


def place(client, *lines, key=None, **extra):
    body = {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines], **extra}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/orders/", body, format="json", **headers)


ADDRESS = {
    "name": "Alice Martin",
    "line1": "12 rue Oberkampf",
    "line2": "3e étage",
    "city": "Paris",
    "postal_code": "75011",
    "country": "FR",
}


def checkout(client, *, key=None, token=None, address=None, **extra):
    """Check out the client's cart, to ``ADDRESS`` with ``tok_visa`` unless told otherwise."""
    body = {"shipping_address": address or ADDRESS, "payment_token": token or "tok_visa", **extra}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/checkout/", body, format="json", **headers)


# Events as payments and shipping publish them (version 1), about an order as the API shows it.


def payment_succeeded(order, *, transaction_id="txn_0001", amount=None):
    """``payment.succeeded`` as payments publishes it (version 1)."""
    return Event(
        type="payment.succeeded",
        source="payments",
        data={
            "payment_id": str(uuid.uuid4()),
            "order_id": order["id"],
            "user_id": order["user_id"],
            "amount": amount or order["total"],
            "transaction_id": transaction_id,
        },
    )


def payment_failed(order, *, reason="card_declined"):
    return Event(
        type="payment.failed",
        source="payments",
        data={
            "payment_id": str(uuid.uuid4()),
            "order_id": order["id"],
            "user_id": order["user_id"],
            "amount": order["total"],
            "reason": reason,
        },
    )


def payment_refunded(order, *, transaction_id="txn_0001"):
    return Event(
        type="payment.refunded",
        source="payments",
        data={
            "payment_id": str(uuid.uuid4()),
            "order_id": order["id"],
            "user_id": order["user_id"],
            "amount": order["total"],
            "transaction_id": transaction_id,
            "refund_id": "re_0001",
        },
    )


def shipment_created(order, *, tracking_number="LP123456789FR"):
    """``shipment.created`` as shipping publishes it (version 1)."""
    return Event(
        type="shipment.created",
        source="shipping",
        data={
            "shipment_id": 1,
            "order_id": order["id"],
            "user_id": order["user_id"],
            "carrier": "La Poste",
            "tracking_number": tracking_number,
            "estimated_days": 3,
        },
    )
