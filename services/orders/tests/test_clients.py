"""orders.clients: what products and users answer is checked like a client's request.

An answer that is not what the protocol says is a 502 (the saga releases what may
be held, the order ends failed), never a 500 or an order confirmed with lines nobody
ordered; a blip on an idempotent call is retried.
"""

import json

import pytest

from orders.models import Order
from souk_common.testing import Dropped
from tests.conftest import ADDRESS, checkout, place

pytestmark = pytest.mark.django_db


def test_idempotent_calls_are_retried_through_a_blip(alice, products):
    products.failures["reserve"] = [503, Dropped()]

    response = place(alice, (1, 1))

    assert response.status_code == 201
    assert products.count("reserve") == 3
    assert products.stock(1) == 9
    assert Order.objects.count() == 1


def first_line(**changes):
    """Garble the first reserved line of products' answer."""
    return lambda body: json.dumps(
        {**body, "items": [{**body["items"][0], **changes}, *body["items"][1:]]}
    )


NONSENSE_RESERVATIONS = {
    "not json": lambda body: "<html>Service Unavailable</html>",
    "not an object": lambda body: "[]",
    "no items": lambda body: json.dumps({**body, "items": None}),
    "another reference": lambda body: json.dumps({**body, "reference": "someone-else"}),
    "another product": first_line(product_id=2),
    "another quantity": first_line(quantity=2),
    "a quantity as text": first_line(quantity="3"),
    "a price as a float": first_line(unit_price=9.5),
    "a price that is not money": first_line(unit_price="free"),
    "a negative price": first_line(unit_price="-9.50"),
    "an infinite price": first_line(unit_price="Infinity"),
    "a fraction of a cent": first_line(unit_price="9.505"),
    "an overlong name": first_line(name="x" * 201),
}


@pytest.mark.parametrize("garble", NONSENSE_RESERVATIONS.values(), ids=NONSENSE_RESERVATIONS)
def test_a_reservation_answer_that_makes_no_sense_is_502_and_its_stock_is_released(
    alice, products, garble
):
    products.garble["reserve"] = garble

    response = place(alice, (1, 3))

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    assert products.count("commit") == 0


@pytest.mark.parametrize("garble", ["not json", "no items", "another reference"])
def test_a_commit_answer_that_makes_no_sense_is_502_and_the_stock_comes_back(
    alice, products, garble
):
    products.ignores_commit = True
    products.garble["commit"] = NONSENSE_RESERVATIONS[garble]

    response = place(alice, (1, 3))

    assert response.status_code == 502
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10


NONSENSE_ACCOUNTS = {
    "not json": lambda body: "OK",
    "is_active as text": lambda body: json.dumps({**body, "is_active": "false"}),
    "another account": lambda body: json.dumps({**body, "id": body["id"] + 1}),
    "no is_active": lambda body: json.dumps({"id": body["id"]}),
}


@pytest.mark.parametrize("garble", NONSENSE_ACCOUNTS.values(), ids=NONSENSE_ACCOUNTS)
def test_an_account_answer_that_makes_no_sense_is_502_and_no_order(alice, users, products, garble):
    users.garble["account"] = garble

    response = place(alice, (1, 1))

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
    assert not Order.objects.exists()
    assert products.calls == []


# Cart and shipping, as a checkout calls them -----------------------------------------


def cart_items(*changes):
    """Garble the items of the cart's answer."""
    return lambda body: json.dumps({**body, "items": [*body["items"], *changes]})


NONSENSE_CARTS = {
    "not json": lambda body: "<html>Bad Gateway</html>",
    "not an object": lambda body: "[]",
    "no items": lambda body: json.dumps({"id": body["id"]}),
    "items not a list": lambda body: json.dumps({**body, "items": {"1": 2}}),
    "a product id as text": cart_items({"product_id": "2", "quantity": 1}),
    "a quantity of zero": cart_items({"product_id": 2, "quantity": 0}),
    "a quantity over 1000": cart_items({"product_id": 2, "quantity": 1001}),
    "a product on two lines": cart_items({"product_id": 1, "quantity": 1}),
}


@pytest.mark.parametrize("garble", NONSENSE_CARTS.values(), ids=NONSENSE_CARTS)
def test_a_cart_that_makes_no_sense_is_502_and_nothing_is_recorded(
    alice, shop, cart, shipping, garble
):
    products, _ = shop
    cart.fill(1, (1, 1))
    cart.garble["get"] = garble

    response = checkout(alice)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
    assert not Order.objects.exists()
    assert products.calls == []


def test_cart_and_shipping_are_called_with_the_service_token_and_the_request_id(
    alice, shop, cart, shipping
):
    cart.fill(1, (1, 1))

    response = alice.post(
        "/api/checkout/",
        {"shipping_address": ADDRESS, "payment_token": "tok_visa"},
        format="json",
        HTTP_X_REQUEST_ID="checkout-request-1",
    )

    assert response.status_code == 202
    requests = [*cart.server.calls, *shipping.server.calls]
    assert [request.method for request in requests] == ["GET", "DELETE", "POST"]
    for request in requests:
        assert request.headers["Authorization"] == "Bearer service-token"
        assert request.headers["X-Request-ID"] == "checkout-request-1"


def test_cart_reads_are_retried_through_a_blip_and_a_merge_is_not(alice, shop, cart):
    cart.fill(1, (1, 1))
    cart.failures["get"] = [503]

    assert checkout(alice).status_code == 202
    assert cart.count("get") == 2

    cart.guests["guest"] = {2: 1}
    cart.failures["merge"] = [503]
    response = checkout(alice, cart_id="guest")

    assert response.status_code == 503
    assert cart.count("merge") == 1
