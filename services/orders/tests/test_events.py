"""The events orders publishes, as its outbox holds them: ``order.confirmed`` and
``order.cancelled``, each stored with the status change it describes, and nothing for
an order that was never confirmed. (The relay and the broker are souk_common's.)"""

from datetime import datetime, timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.services import RequestedLine, order_place, orders_reconcile
from souk_common import sql
from souk_common.events.models import OutboxEvent
from souk_common.events.publish import event_publish_if
from souk_common.testing import Dropped
from tests.conftest import place

pytestmark = pytest.mark.django_db


def published(type):
    """The envelopes of the events of ``type`` in the outbox, oldest first."""
    return [event.envelope for event in OutboxEvent.objects.filter(type=type).order_by("id")]


def as_the_api_shows(order):
    """What an order event's data says, from the order as the API answered it."""
    return {
        "order_id": order["id"],
        "user_id": order["user_id"],
        "status": order["status"],
        "items": order["items"],
        "total": order["total"],
        "created_at": order["created_at"],
    }


def data_of(envelope):
    """An event's data, its time as the API writes it (both are ISO 8601, in UTC)."""
    created_at = datetime.fromisoformat(envelope["data"]["created_at"])
    return {**envelope["data"], "created_at": created_at.isoformat().replace("+00:00", "Z")}


def test_a_placed_order_publishes_one_order_confirmed_with_the_order(alice, products):
    order = place(alice, (1, 2), (2, 1)).json()

    [confirmed] = published("order.confirmed")
    assert (confirmed["version"], confirmed["source"]) == (1, "orders")
    assert data_of(confirmed) == as_the_api_shows(order)
    assert confirmed["data"]["items"] == [
        {
            "product_id": 1,
            "name": "Sencha",
            "unit_price": "9.50",
            "quantity": 2,
            "line_total": "19.00",
        },
        {
            "product_id": 2,
            "name": "Teapot",
            "unit_price": "39.00",
            "quantity": 1,
            "line_total": "39.00",
        },
    ]
    assert (confirmed["data"]["status"], confirmed["data"]["total"]) == ("confirmed", "58.00")
    assert OutboxEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        pytest.param([(1, 1), (2, 5)], 409, id="out of stock"),
        pytest.param([(1, 1), (404, 1)], 400, id="unknown product"),
    ],
)
def test_a_rejected_order_publishes_nothing(alice, products, lines, status):
    response = place(alice, *lines)

    assert response.status_code == status
    assert Order.objects.get().status == "rejected"
    assert not OutboxEvent.objects.exists()


def test_a_failed_order_publishes_nothing(alice, products):
    products.failures["reserve"] = Dropped()

    response = place(alice, (1, 1))

    assert response.status_code == 503
    assert Order.objects.get().status == "failed"
    assert not OutboxEvent.objects.exists()


def test_an_order_placed_again_under_its_key_is_published_once(alice, products):
    first = place(alice, (1, 2), key="checkout")
    again = place(alice, (1, 2), key="checkout")

    assert again.json() == first.json()
    assert [data_of(event) for event in published("order.confirmed")] == [
        as_the_api_shows(first.json())
    ]


def test_cancelling_publishes_one_order_cancelled_however_often_it_is_asked(alice, products):
    order_id = place(alice, (1, 2), (2, 1)).json()["id"]

    cancelled = alice.post(f"/api/orders/{order_id}/cancel/").json()
    alice.post(f"/api/orders/{order_id}/cancel/")

    [event] = published("order.cancelled")
    assert (event["version"], event["source"]) == (1, "orders")
    assert data_of(event) == as_the_api_shows(cancelled)
    assert event["data"]["status"] == "cancelled"
    assert len(published("order.confirmed")) == 1


def test_recovery_finishing_a_cancel_publishes_order_cancelled_once(alice, products):
    order_id = place(alice, (1, 2)).json()["id"]
    products.failures["release"] = Dropped()
    assert alice.post(f"/api/orders/{order_id}/cancel/").status_code == 503
    assert not published("order.cancelled")  # still cancelling: nothing to announce yet

    products.failures.clear()
    orders_reconcile(grace=timedelta(seconds=30))
    orders_reconcile(grace=timedelta(seconds=30))

    [event] = published("order.cancelled")
    assert data_of(event) == as_the_api_shows(alice.get(f"/api/orders/{order_id}/").json())
    assert event["data"]["status"] == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_that_rolls_back_leaves_no_event(products, monkeypatch):
    def publish_then_fail(change, **event):
        # In the outbox with the confirmation, then a statement of the same batch fails.
        return [*event_publish_if(change, **event), sql.Statement("SELECT * FROM missing", [])]

    monkeypatch.setattr(services, "event_publish_if", publish_then_fail)

    with pytest.raises(DatabaseError):
        order_place(user_id=1, lines=[RequestedLine(product_id=1, quantity=2)])

    order = Order.objects.get()
    assert (order.status, order.total) == ("pending", None)  # left to the recovery
    assert not OutboxEvent.objects.exists()
    Order.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    orders_reconcile(grace=timedelta(seconds=30))
    assert Order.objects.get().status == "failed"
    assert not OutboxEvent.objects.exists()  # and a failed order is never announced
