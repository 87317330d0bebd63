"""Fixtures of the shipping service's tests: the products catalogue faked at its HTTP
boundary, callers (anonymous, users, services), and orders' events as orders publishes them."""

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from shipping import clients
from shipping.handlers import handlers
from souk_common.events.consume import Inbox
from souk_common.events.envelope import Event
from souk_common.testing import FakeRequest


@dataclass
class FakeCatalogue:
    """Products' public ``GET /api/products/?ids=``: the active products among the ids,
    one page of them, as the real one answers an anonymous caller (retired ones unlisted)."""

    products: dict[int, tuple[str, Decimal, bool]] = field(default_factory=dict)
    asked: list[dict[str, list[str]]] = field(default_factory=list)

    def add(self, product_id, name, price, *, is_active=True):
        self.products[product_id] = (name, Decimal(price), is_active)

    def page(self, request: FakeRequest):
        query = parse_qs(urlsplit(request.url).query)
        self.asked.append(query)
        ids = [int(pid) for pid in query["ids"][0].split(",")]
        results = [
            {
                "id": pid,
                "sku": f"SKU-{pid}",
                "name": name,
                "description": "",
                "price": str(price),
                "stock": 5,
                "category": None,
                "is_active": True,
                "created_at": "2026-11-30T10:00:00Z",
                "updated_at": "2026-11-30T10:00:00Z",
            }
            for pid, (name, price, active) in sorted(self.products.items())
            if pid in ids and active
        ]
        body = {"count": len(results), "next": None, "previous": None, "results": results}
        return 200, {}, json.dumps(body)


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Each test gets a new products client: a closed breaker, the settings of the test."""
    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def products_server(fake_service, settings):
    server = fake_service()
    settings.PRODUCTS_URL = server.url
    clients.reset()
    return server


@pytest.fixture
def catalogue(products_server):
    """The catalogue: Sencha 9.50, Teapot 45.00, Tray 50.00, Kettle 99.99 on sale; product
    3 retired; anything else unknown."""
    catalogue = FakeCatalogue()
    catalogue.add(1, "Sencha", "9.50")
    catalogue.add(2, "Teapot", "45.00")
    catalogue.add(3, "Retired tray", "27.50", is_active=False)
    catalogue.add(4, "Tray", "50.00")
    catalogue.add(5, "Kettle", "99.99")
    products_server.add_callback("GET", "/api/products/", catalogue.page)
    return catalogue


def client_for(token=None):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def anonymous():
    return client_for()


@pytest.fixture
def alice(token_factory):
    return client_for(token_factory.access(user_id=1, username="alice"))


@pytest.fixture
def orders_service(token_factory):
    """The orders service, calling with its token (scope shipping:quote among others)."""
    scopes = ["users:read", "stock:reserve", "cart:checkout", "shipping:quote"]
    return client_for(token_factory.service(client_id="orders", scopes=scopes))


@pytest.fixture
def inbox():
    """The service's inbox, with its registered handlers, as its consumer hands events in."""
    return Inbox(handlers)


def paid_event(*, order_id=None, user_id=7, country="GB", event_id=None):
    """``order.paid`` as the orders service publishes it (version 1)."""
    order_id = str(order_id or uuid.uuid4())
    return Event(
        id=event_id or uuid.uuid4(),
        type="order.paid",
        source="orders",
        data={
            "order_id": order_id,
            "user_id": user_id,
            "status": "paid",
            "items": [
                {
                    "product_id": 1,
                    "name": "Sencha",
                    "unit_price": "9.50",
                    "quantity": 2,
                    "line_total": "19.00",
                }
            ],
            "subtotal": "19.00",
            "shipping_cost": "4.95",
            "total": "23.95",
            "shipping_address": {
                "name": "Alice Liddell",
                "line1": "1 Rabbit Hole",
                "line2": "",
                "city": "Oxford",
                "postal_code": "OX1 1AA",
                "country": country,
            },
            "transaction_id": "txn_123",
            "created_at": "2026-11-30T10:00:00+00:00",
        },
    )


def cancelled_event(*, order_id, user_id=7, was_paid=None):
    """``order.cancelled`` as orders publishes it: a checkout order's says whether it was
    paid (``was_paid``); a v1 order's does not (``was_paid=None``)."""
    data = {
        "order_id": str(order_id),
        "user_id": user_id,
        "status": "cancelled",
        "items": [],
        "total": "23.95",
        "created_at": "2026-11-30T10:00:00+00:00",
    }
    if was_paid is not None:
        data |= {
            "subtotal": "19.00",
            "shipping_cost": "4.95",
            "was_paid": was_paid,
            "reason": "customer",
        }
    return Event(type="order.cancelled", source="orders", data=data)
