"""When products cannot answer, a cart cannot be priced: 503 or 504 in the envelope, and a
line is not put in a cart unpriced. The carts themselves are not touched."""

import json

import pytest

from cart import clients
from souk_common.testing import Dropped, Hung
from tests.conftest import new_guest_cart, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

CART = "/api/cart/"


@pytest.fixture
def guest(catalogue):
    _, client = new_guest_cart()
    assert put(client, 1, 2).status_code == 200
    return client


@pytest.mark.parametrize("failure", [Dropped(), 503, 500])
def test_products_unreachable_or_failing_is_503_and_nothing_is_put_in_the_cart(
    guest, catalogue, failure
):
    catalogue.failure = failure

    read = guest.get(CART)
    added = put(guest, 2, 1)
    catalogue.failure = None
    clients.reset()  # the breaker the failures opened

    for answer in (read, added):
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "upstream_unavailable"
        assert int(answer["Retry-After"]) >= 1
    assert [line["product_id"] for line in guest.get(CART).json()["items"]] == [1]


def test_products_too_slow_is_504(guest, catalogue):
    catalogue.failure = Hung(1.0)

    response = guest.get(CART)

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


def test_an_answer_that_makes_no_sense_is_502_never_a_price(
    guest, catalogue, fake_service, settings
):
    server = fake_service()
    garbled = {"count": 1, "next": None, "previous": None, "results": [{"id": 1, "price": 5}]}
    server.add("GET", "/api/products/", body=json.dumps(garbled))
    settings.PRODUCTS_URL = server.url
    clients.reset()

    response = guest.get(CART)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


def test_an_empty_cart_needs_no_products(catalogue):
    _, client = new_guest_cart()
    catalogue.failure = Dropped()

    response = client.get(CART)

    assert response.status_code == 200
    assert catalogue.calls == 0
