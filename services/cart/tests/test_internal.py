"""The internal API checkout uses (orders, with the cart:checkout scope): a user's cart
read, merged into and emptied by user id. Every test runs on both stores."""

import pytest

from tests.conftest import new_guest_cart, put, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

USER_CART = "/internal/carts/users/1/"


def lines(response):
    return [(line["product_id"], line["quantity"]) for line in response.json()["items"]]


def test_orders_reads_a_users_cart_as_the_user_sees_it(orders, alice, catalogue):
    put(alice, 1, 2)
    catalogue.retire(1)
    put(alice, 2, 1)

    response = orders.get(USER_CART)

    assert response.status_code == 200
    assert response.json() == alice.get("/api/cart/").json()
    assert response.json()["items"][0]["available"] is False
    assert response.json()["subtotal"] == "39.00"


def test_a_user_with_no_cart_has_an_empty_one(orders, catalogue):
    response = orders.get("/internal/carts/users/7/")

    assert response.status_code == 200
    assert response.json() == {
        "id": "user:7",
        "items": [],
        "subtotal": "0.00",
        "item_count": 0,
        "expires_at": None,
    }


def test_orders_merges_a_guest_cart_into_a_users(orders, alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    put(alice, 1, 1)

    merged = orders.post(f"{USER_CART}merge/", {"cart_id": cart_id}, format="json")
    unknown = orders.post(f"{USER_CART}merge/", {"cart_id": cart_id}, format="json")

    assert merged.status_code == 200
    assert lines(merged) == [(1, 3)]
    assert lines(alice.get("/api/cart/")) == [(1, 3)]
    assert guest.get("/api/cart/").status_code == 404
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_orders_empties_a_users_cart_and_again(orders, alice, bob, catalogue):
    put(alice, 1, 2)
    put(bob, 1, 1)

    emptied = orders.delete(USER_CART)
    again = orders.delete(USER_CART)
    never_had_one = orders.delete("/internal/carts/users/7/")

    assert (emptied.status_code, again.status_code, never_had_one.status_code) == (204, 204, 204)
    assert emptied.content == b""
    assert alice.get("/api/cart/").json()["items"] == []
    assert lines(bob.get("/api/cart/")) == [(1, 1)]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", USER_CART), ("delete", USER_CART), ("post", f"{USER_CART}merge/")],
)
def test_only_a_service_holding_cart_checkout_may_call(
    method, path, alice, anonymous, token_factory, catalogue
):
    put(alice, 1, 2)
    other_service = signed_in(token_factory.service(client_id="shipping", scopes=["x:y"]))
    body = {"cart_id": "A" * 32}

    answers = {
        "nobody": getattr(anonymous, method)(path, body, format="json"),
        "the user": getattr(alice, method)(path, body, format="json"),
        "another service": getattr(other_service, method)(path, body, format="json"),
    }

    assert answers["nobody"].status_code == 401
    assert answers["the user"].status_code == 403
    assert answers["another service"].status_code == 403
    assert answers["the user"].json()["error"]["code"] == "permission_denied"
    assert lines(alice.get("/api/cart/")) == [(1, 2)]


@pytest.mark.parametrize("user_id", ["0", str(2**63), "x"])
def test_a_user_id_that_cannot_exist_is_not_found(orders, user_id, catalogue):
    assert orders.get(f"/internal/carts/users/{user_id}/").status_code == 404
