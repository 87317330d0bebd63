"""A cart expires CART_TTL_SECONDS after its last change (sliding), in real time; an
expired guest cart is gone (404), an expired user's cart is empty. Both stores."""

import time
from datetime import datetime

import pytest

from tests.conftest import new_guest_cart, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("store")]

CART = "/api/cart/"
TTL = 2


@pytest.fixture(autouse=True)
def _short_ttl(settings, store):
    settings.CART_TTL_SECONDS = TTL


def expiry(response):
    return datetime.fromisoformat(response.json()["expires_at"]).timestamp()


def wait_past(moment):
    time.sleep(max(0.0, moment - time.time()) + 0.25)


def test_every_change_moves_the_expiry_and_a_read_does_not(catalogue):
    _, guest = new_guest_cart()
    created = expiry(guest.get(CART))
    time.sleep(0.6)

    read = guest.get(CART)
    changed = put(guest, 1, 1)
    wait_past(created)  # the first expiry has passed; the change moved it
    alive = guest.get(CART)
    removed = guest.delete("/api/cart/items/1/")
    emptied = guest.delete(CART)
    wait_past(expiry(emptied))
    gone = guest.get(CART)

    assert expiry(read) == created
    assert expiry(changed) >= created + 0.5
    assert alive.status_code == 200
    assert [line["product_id"] for line in alive.json()["items"]] == [1]
    assert expiry(removed) >= expiry(changed)
    assert expiry(emptied) >= expiry(removed)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


def test_an_expired_guest_cart_is_gone_for_every_operation(alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    wait_past(expiry(guest.get(CART)))

    answers = [
        guest.get(CART),
        put(guest, 1, 1),
        guest.delete("/api/cart/items/1/"),
        guest.delete(CART),
        alice.post("/api/cart/merge/", {"cart_id": cart_id}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert alice.get(CART).json()["items"] == []


def test_an_expired_users_cart_is_empty_and_starts_again(alice, catalogue):
    put(alice, 1, 2)
    wait_past(expiry(alice.get(CART)))

    expired = alice.get(CART)
    removed = alice.delete("/api/cart/items/1/")
    again = put(alice, 2, 1)

    assert expired.status_code == 200
    assert expired.json()["items"] == []
    assert expired.json()["expires_at"] is None
    assert removed.json()["items"] == []
    assert [line["product_id"] for line in again.json()["items"]] == [2]  # none of the old


def test_a_merge_moves_the_users_expiry(alice, catalogue):
    put(alice, 1, 1)
    before = expiry(alice.get(CART))
    time.sleep(0.6)
    cart_id, guest = new_guest_cart()
    put(guest, 2, 1)

    merged = alice.post("/api/cart/merge/", {"cart_id": cart_id}, format="json")

    assert expiry(merged) >= before + 0.5
