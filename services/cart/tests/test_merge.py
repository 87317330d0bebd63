"""Merging a guest cart into a signed-in user's: lines added (quantities summed, capped at
1000), the guest cart gone. Every test runs on both stores (database and Redis)."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import new_guest_cart, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

CART = "/api/cart/"
MERGE = "/api/cart/merge/"


def lines(response):
    return [(line["product_id"], line["quantity"]) for line in response.json()["items"]]


def test_a_guest_cart_is_added_to_the_users_and_is_gone(alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    put(guest, 2, 1)
    put(alice, 1, 3)

    merged = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert merged.status_code == 200
    assert merged.json()["id"] == "user:1"
    assert lines(merged) == [(1, 5), (2, 1)]
    assert merged.json()["subtotal"] == "86.50"
    assert lines(alice.get(CART)) == [(1, 5), (2, 1)]
    assert guest.get(CART).status_code == 404
    again = alice.post(MERGE, {"cart_id": cart_id}, format="json")
    assert again.status_code == 404


def test_a_user_with_no_cart_gets_the_guests_lines(alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 2, 4)

    merged = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert lines(merged) == [(2, 4)]
    assert merged.json()["expires_at"] is not None


def test_summed_quantities_are_capped_at_1000(alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 500)
    put(alice, 1, 800)

    merged = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert lines(merged) == [(1, 1000)]


def test_a_retired_product_in_the_guest_cart_comes_along_flagged(alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 1)
    put(guest, 2, 1)
    catalogue.retire(2)

    merged = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert [line["available"] for line in merged.json()["items"]] == [True, False]
    assert merged.json()["subtotal"] == "9.50"


def test_a_merge_that_would_pass_50_products_is_refused_and_changes_nothing(alice, catalogue):
    for product_id in range(10, 61):
        catalogue.add(product_id, f"Tea {product_id}", "1.00")
    for product_id in range(10, 58):  # 48 lines
        put(alice, product_id, 1)
    cart_id, guest = new_guest_cart()
    for product_id in (10, 58, 59, 60):  # one already there, three new: 51
        put(guest, product_id, 2)

    refused = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"cart_id": ["A cart holds at most 50 products."]}
    assert len(alice.get(CART).json()["items"]) == 48
    assert lines(alice.get(CART))[0] == (10, 1)
    assert lines(guest.get(CART)) == [(10, 2), (58, 2), (59, 2), (60, 2)]


@pytest.mark.parametrize("cart_id", ["A" * 32, "user:2", "nonsense", ""])
def test_an_unknown_guest_cart_is_not_found(alice, bob, catalogue, cart_id):
    put(bob, 2, 1)

    response = alice.post(MERGE, {"cart_id": cart_id}, format="json")

    assert response.status_code == (404 if cart_id else 400)
    assert lines(alice.get(CART)) == []
    assert lines(bob.get(CART)) == [(2, 1)]


def test_merge_needs_a_cart_id(alice, catalogue):
    response = alice.post(MERGE, {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["cart_id"]


def test_a_guest_cannot_merge(catalogue):
    cart_id, guest = new_guest_cart()
    other_id, _ = new_guest_cart()

    response = guest.post(MERGE, {"cart_id": other_id}, format="json")
    anonymous = APIClient().post(MERGE, {"cart_id": cart_id}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert anonymous.status_code == 401
