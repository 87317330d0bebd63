"""orders.clients: what products and users answer is checked like a client's request.

An answer that is not what the protocol says is a 502 (the saga releases what may
be held, the order ends failed), never a 500 or an order confirmed with lines nobody
ordered; a blip on an idempotent call is retried.
"""

import json

import pytest

from orders.models import Order
from souk_common.testing import Dropped
from tests.conftest import place

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
