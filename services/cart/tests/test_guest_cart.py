"""A guest's cart: made with POST, named by its id in X-Cart-ID, its lines priced by the
products catalogue now. Every test runs on both stores (database and Redis)."""

import re
import time
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from tests.conftest import new_guest_cart, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

CART = "/api/cart/"


def sencha(quantity, **changes):
    total = f"{9.5 * quantity:.2f}"
    line = {
        "product_id": 1,
        "name": "Sencha",
        "unit_price": "9.50",
        "quantity": quantity,
        "line_total": total,
        "available": True,
    }
    return {**line, **changes}


def test_a_guest_makes_an_empty_cart_named_by_an_unguessable_id(settings, catalogue):
    before = time.time()
    first = APIClient().post(CART)
    second = APIClient().post(CART)

    assert first.status_code == 201
    body = first.json()
    assert set(body) == {"id", "items", "subtotal", "item_count", "expires_at"}
    assert (body["items"], body["subtotal"], body["item_count"]) == ([], "0.00", 0)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", body["id"])  # 192 random bits
    assert second.json()["id"] != body["id"]
    expires = datetime.fromisoformat(body["expires_at"]).timestamp()
    assert (
        before + settings.CART_TTL_SECONDS - 1 < expires < time.time() + settings.CART_TTL_SECONDS
    )
    assert catalogue.calls == 0  # an empty cart is priced without asking


def test_a_line_is_set_priced_by_products_and_read_back(catalogue):
    cart_id, guest = new_guest_cart()

    added = put(guest, 1, 2)
    changed = put(guest, 1, 5)
    put(guest, 2, 1)
    read = guest.get(CART)

    assert added.status_code == 200
    assert added.json()["id"] == cart_id
    assert added.json()["items"] == [sencha(2)]
    assert (added.json()["subtotal"], added.json()["item_count"]) == ("19.00", 2)
    assert changed.json()["items"] == [sencha(5)]  # set, not added to
    assert read.status_code == 200
    assert read.json()["items"] == [
        sencha(5),
        {
            "product_id": 2,
            "name": "Teapot",
            "unit_price": "39.00",
            "quantity": 1,
            "line_total": "39.00",
            "available": True,
        },
    ]
    assert (read.json()["subtotal"], read.json()["item_count"]) == ("86.50", 6)


def test_names_and_prices_are_products_current_ones_asked_once_per_view(catalogue):
    _, guest = new_guest_cart()
    put(guest, 1, 2)
    put(guest, 2, 1)
    catalogue.set_price(1, "10.00")
    calls = catalogue.calls

    read = guest.get(CART)

    assert read.json()["items"][0] == sencha(2, unit_price="10.00", line_total="20.00")
    assert read.json()["subtotal"] == "59.00"
    assert catalogue.calls == calls + 1
    assert catalogue.asked[-1] == [1, 2]


def test_putting_a_line_asks_products_once(catalogue):
    _, guest = new_guest_cart()
    put(guest, 2, 1)
    calls = catalogue.calls

    put(guest, 1, 2)

    assert catalogue.calls == calls + 1
    assert sorted(catalogue.asked[-1]) == [1, 2]


@pytest.mark.parametrize("quantity", [0, 1001, -1, "2", 2.5, True, None])
def test_a_quantity_outside_1_to_1000_or_not_an_integer_is_refused(catalogue, quantity):
    _, guest = new_guest_cart()

    response = put(guest, 1, quantity)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["quantity"]
    assert guest.get(CART).json()["items"] == []


def test_a_missing_quantity_is_refused(catalogue):
    _, guest = new_guest_cart()

    response = guest.put("/api/cart/items/1/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["quantity"]


@pytest.mark.parametrize("product_id", [3, 404])  # retired, unknown
def test_a_retired_or_unknown_product_is_refused_naming_it(catalogue, product_id):
    _, guest = new_guest_cart()

    response = put(guest, product_id, 1)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {
        "product_id": [f"Product {product_id} does not exist or is retired."],
        "unavailable_products": [product_id],
    }
    assert guest.get(CART).json()["items"] == []


def test_a_product_retired_while_in_the_cart_is_flagged_never_priced(catalogue):
    _, guest = new_guest_cart()
    put(guest, 1, 2)
    put(guest, 2, 3)
    catalogue.retire(2)

    read = guest.get(CART)
    again = put(guest, 2, 4)

    assert read.json()["items"][1] == {
        "product_id": 2,
        "name": None,
        "unit_price": None,
        "quantity": 3,
        "line_total": None,
        "available": False,
    }
    assert read.json()["subtotal"] == "19.00"  # the retired line is not in it
    assert read.json()["item_count"] == 5
    assert again.status_code == 400
    assert again.json()["error"]["details"]["unavailable_products"] == [2]


def test_a_line_is_removed_and_removing_it_again_changes_nothing(catalogue):
    _, guest = new_guest_cart()
    put(guest, 1, 2)
    put(guest, 2, 1)

    removed = guest.delete("/api/cart/items/2/")
    again = guest.delete("/api/cart/items/2/")

    assert removed.status_code == 200
    assert removed.json()["items"] == [sencha(2)]
    assert again.status_code == 200
    assert again.json()["items"] == [sencha(2)]
    assert guest.get(CART).json()["items"] == [sencha(2)]


def test_emptying_a_guest_cart_keeps_the_cart(catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)

    emptied = guest.delete(CART)
    read = guest.get(CART)
    refilled = put(guest, 2, 1)

    assert emptied.status_code == 200
    assert emptied.json()["id"] == cart_id
    assert (emptied.json()["items"], emptied.json()["subtotal"]) == ([], "0.00")
    assert emptied.json()["item_count"] == 0
    assert read.status_code == 200
    assert read.json()["items"] == []
    assert refilled.json()["item_count"] == 1


@pytest.mark.parametrize(
    "cart_id",
    [
        "A" * 32,  # well formed, never made
        "user:1",  # a user's cart is never a guest's
        "short",
        "A" * 33,
        "../../etc/passwd",
        "",
    ],
)
def test_a_cart_id_that_names_no_cart_is_not_found(catalogue, cart_id):
    guest = APIClient()
    guest.credentials(HTTP_X_CART_ID=cart_id)

    answers = [
        guest.get(CART),
        put(guest, 1, 1),
        guest.delete("/api/cart/items/1/"),
        guest.delete(CART),
    ]

    for answer in answers:
        assert answer.status_code == 404, answer.content
        assert answer.json()["error"]["code"] == "not_found"
    assert catalogue.calls == 0


def test_a_guest_who_names_no_cart_is_told_to_name_it(catalogue):
    anonymous = APIClient()

    answers = [
        anonymous.get(CART),
        put(anonymous, 1, 1),
        anonymous.delete("/api/cart/items/1/"),
        anonymous.delete(CART),
    ]

    for answer in answers:
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "validation_error"
        assert list(answer.json()["error"]["details"]) == ["X-Cart-ID"]


def test_one_guest_never_sees_or_changes_another_guests_cart(catalogue):
    _, first = new_guest_cart()
    _, second = new_guest_cart()

    put(first, 1, 2)
    put(second, 2, 1)
    first.delete("/api/cart/items/2/")

    assert [line["product_id"] for line in first.get(CART).json()["items"]] == [1]
    assert [line["product_id"] for line in second.get(CART).json()["items"]] == [2]


def test_a_product_id_that_cannot_exist_is_not_found(catalogue):
    _, guest = new_guest_cart()

    answers = [
        put(guest, 0, 1),
        put(guest, 2**63, 1),
        guest.delete(f"/api/cart/items/{2**63}/"),
        guest.put("/api/cart/items/abc/", {"quantity": 1}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 4


def test_a_cart_holds_at_most_50_products(catalogue):
    for product_id in range(10, 61):
        catalogue.add(product_id, f"Tea {product_id}", "1.00")
    _, guest = new_guest_cart()
    for product_id in range(10, 60):
        assert put(guest, product_id, 1).status_code == 200

    refused = put(guest, 60, 1)
    changed = put(guest, 59, 7)
    read = guest.get(CART).json()

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_error"
    assert refused.json()["error"]["details"] == {
        "product_id": ["A cart holds at most 50 products."]
    }
    assert changed.status_code == 200  # a line already there may still change
    assert len(read["items"]) == 50
    assert 60 not in [line["product_id"] for line in read["items"]]
    assert read["item_count"] == 56


def test_an_invalid_token_is_refused_even_where_guests_are_welcome(catalogue, token_factory):
    cart_id, guest = new_guest_cart()
    guest.credentials(
        HTTP_X_CART_ID=cart_id, HTTP_AUTHORIZATION=f"Bearer {token_factory.forged('expired')}"
    )

    response = guest.get(CART)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
