"""A signed-in user's cart: found from the token, no header; nobody else's token or guest
id reaches it. Every test runs on both stores (database and Redis)."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import new_guest_cart, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

CART = "/api/cart/"
EMPTY = {"id": "user:1", "items": [], "subtotal": "0.00", "item_count": 0, "expires_at": None}


def product_ids(response):
    return [(line["product_id"], line["quantity"]) for line in response.json()["items"]]


def test_a_user_with_no_cart_has_an_empty_one(alice, catalogue):
    response = alice.get(CART)

    assert response.status_code == 200
    assert response.json() == EMPTY
    assert catalogue.calls == 0


def test_a_users_cart_is_found_from_the_token(alice, catalogue):
    added = put(alice, 1, 2)
    read = alice.get(CART)

    assert added.status_code == 200
    assert added.json()["id"] == "user:1"
    assert product_ids(read) == [(1, 2)]
    assert read.json()["subtotal"] == "19.00"
    assert read.json()["expires_at"] is not None


def test_post_answers_a_signed_in_users_own_cart_and_makes_no_guest_cart(alice, catalogue):
    put(alice, 1, 2)

    response = alice.post(CART)

    assert response.status_code == 200
    assert response.json()["id"] == "user:1"
    assert product_ids(response) == [(1, 2)]


def test_a_user_reads_and_changes_only_their_own_cart(alice, bob, catalogue):
    put(alice, 1, 2)

    bobs = bob.get(CART)
    put(bob, 2, 1)
    bob.delete("/api/cart/items/1/")
    bob.delete(CART)

    assert bobs.json() == {**EMPTY, "id": "user:2"}
    assert product_ids(alice.get(CART)) == [(1, 2)]


def test_a_guest_id_never_reaches_a_users_cart(alice, catalogue):
    put(alice, 1, 2)
    guest = APIClient()
    guest.credentials(HTTP_X_CART_ID="user:1")

    answers = [guest.get(CART), put(guest, 2, 1), guest.delete(CART)]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert product_ids(alice.get(CART)) == [(1, 2)]


def test_signed_in_the_users_cart_is_used_and_a_named_guest_cart_is_left_alone(
    alice, token_factory, catalogue
):
    cart_id, guest = new_guest_cart()
    put(guest, 2, 1)
    both = APIClient()
    both.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_factory.access(user_id=1)}", HTTP_X_CART_ID=cart_id
    )

    changed = put(both, 1, 3)

    assert changed.json()["id"] == "user:1"
    assert product_ids(changed) == [(1, 3)]
    assert product_ids(guest.get(CART)) == [(2, 1)]


def test_a_user_empties_their_cart_and_removes_lines_they_never_had(alice, catalogue):
    removed_from_nothing = alice.delete("/api/cart/items/1/")
    emptied_nothing = alice.delete(CART)
    put(alice, 1, 2)
    put(alice, 2, 1)

    removed = alice.delete("/api/cart/items/1/")
    emptied = alice.delete(CART)

    assert removed_from_nothing.status_code == 200
    assert removed_from_nothing.json() == EMPTY
    assert emptied_nothing.json() == EMPTY
    assert product_ids(removed) == [(2, 1)]
    assert emptied.status_code == 200
    assert emptied.json()["items"] == []
    assert alice.get(CART).json()["items"] == []


def test_a_users_cart_holds_at_most_50_products(alice, catalogue):
    for product_id in range(10, 61):
        catalogue.add(product_id, f"Tea {product_id}", "1.00")
    for product_id in range(10, 60):
        put(alice, product_id, 1)

    refused = put(alice, 60, 1)

    assert refused.status_code == 400
    assert list(refused.json()["error"]["details"]) == ["product_id"]
    assert len(alice.get(CART).json()["items"]) == 50
