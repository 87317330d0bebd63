"""Idempotency-Key on POST /api/checkout/: as for orders (the first answer again, one order,
one order.placed, stock held once; another body, 422; while the first runs, 409), and a key
is looked up before the cart is, which the first checkout emptied. Orders and checkouts
share a user's keys: a key used for one is another request for the other (422)."""

import pytest

from orders.models import IdempotencyKey, Order
from souk_common.events.models import OutboxEvent
from tests.conftest import ADDRESS, checkout, place

pytestmark = pytest.mark.django_db


def test_same_key_same_body_gives_the_first_answer_one_order_and_one_order_placed(
    alice, shop, cart, shipping
):
    products, _ = shop
    cart.fill(1, (1, 2))

    first = checkout(alice, key="checkout-1")
    again = checkout(alice, key="checkout-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] == f"/api/orders/{first.json()['id']}/"
    assert Order.objects.count() == 1
    assert OutboxEvent.objects.filter(type="order.placed").count() == 1
    assert products.count("reserve") == 1
    assert products.stock(1) == 8
    assert len(shipping.quotes) == 1
    # The second never looked at the cart the first emptied.
    assert cart.calls == [("get", 1), ("empty", 1)]


def test_same_key_with_a_guest_cart_merged_the_first_time_is_answered_again(alice, shop, cart):
    cart.guests["guest-1"] = {1: 1}

    first = checkout(alice, key="with-guest", cart_id="guest-1")
    again = checkout(alice, key="with-guest", cart_id="guest-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert cart.count("merge") == 1


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"token": "tok_mastercard"}, id="another token"),
        pytest.param({"address": {**ADDRESS, "city": "Lyon"}}, id="another address"),
        pytest.param({"cart_id": "guest-2"}, id="a guest cart"),
    ],
)
def test_same_key_other_body_is_422_and_nothing_more_happens(alice, shop, cart, other):
    products, _ = shop
    cart.fill(1, (1, 2))
    checkout(alice, key="checkout-2")
    cart.fill(1, (1, 1))

    response = checkout(alice, key="checkout-2", **other)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert products.count("reserve") == 1
    assert cart.count("get") == 1


def test_a_refusal_is_replayed_too(alice, shop, cart):
    products, _ = shop
    cart.fill(1, (2, 9))

    first = checkout(alice, key="too-many")
    second = checkout(alice, key="too-many")

    assert (first.status_code, second.status_code) == (409, 409)
    assert second.json()["error"]["details"] == first.json()["error"]["details"]
    assert products.count("reserve") == 1


def test_a_refusal_before_anything_is_recorded_keeps_nothing(alice, shop, cart):
    first = checkout(alice, key="empty-then-full")  # an empty cart
    cart.fill(1, (1, 1))
    second = checkout(alice, key="empty-then-full")

    assert (first.status_code, second.status_code) == (400, 202)
    assert Order.objects.count() == 1


def test_an_orders_key_is_refused_for_a_checkout_and_the_other_way_round(alice, shop, cart):
    products, _ = shop
    cart.fill(1, (1, 1))
    assert place(alice, (1, 1), key="order-key").status_code == 201
    assert checkout(alice, key="checkout-key").status_code == 202

    checking_out = checkout(alice, key="order-key")
    placing = place(alice, (1, 1), key="checkout-key")

    for response in (checking_out, placing):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 2
    assert products.count("reserve") == 2
    assert cart.count("get") == 1


def test_keys_are_per_user(alice, bob, shop, cart):
    cart.fill(1, (1, 1))
    cart.fill(2, (1, 1))

    assert checkout(alice, key="shared").status_code == 202
    assert checkout(bob, key="shared").status_code == 202
    assert Order.objects.count() == 2


# The hook runs on the fake products' thread with its own database connection: the first
# request's key must be committed for it to be seen.
@pytest.mark.django_db(transaction=True)
def test_same_key_while_the_first_is_running_is_409(alice, shop, cart):
    products, _ = shop
    cart.fill(1, (1, 2))
    during = []
    products.before["reserve"] = lambda: during.append(checkout(alice, key="running"))

    first = checkout(alice, key="running")

    assert first.status_code == 202
    [second] = during
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"
    assert Order.objects.count() == 1
    assert products.count("reserve") == 1
    assert IdempotencyKey.objects.get().state == "done"
