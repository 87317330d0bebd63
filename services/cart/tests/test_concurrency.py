"""Concurrent changes to one cart lose no update, and its caps hold however many race:
on Redis, and on the embedded store in PostgreSQL (row locks; SQLite would serialise
everything anyway). Each request runs in its own thread, released together."""

import pytest
from rest_framework.test import APIClient

from cart import clients
from cart.stores import CartRef, cart_store
from souk_common.testing import run_concurrently
from tests.conftest import new_guest_cart, put, signed_in, use_store

pytestmark = pytest.mark.django_db(transaction=True)

CART = "/api/cart/"
STORES = [pytest.param("database", marks=pytest.mark.postgres), "redis"]


@pytest.fixture(params=STORES)
def racing_store(request, settings):
    cleanup = use_store(request.param, settings)
    # The fake catalogue's server queues 5 connections: the rest of a burst are accepted
    # after the kernel's 1 s SYN retry, and must not time out before.
    settings.CART_UPSTREAMS = {**settings.CART_UPSTREAMS, "CONNECT_TIMEOUT": 5, "READ_TIMEOUT": 5}
    clients.reset()
    yield request.param
    cleanup()


@pytest.fixture
def many_products(catalogue):
    for product_id in range(100, 170):
        catalogue.add(product_id, f"Tea {product_id}", "2.00")
    return list(range(100, 170))


def guest_client(cart_id):
    client = APIClient()
    client.credentials(HTTP_X_CART_ID=cart_id)
    return client


def lines(client):
    return {line["product_id"]: line["quantity"] for line in client.get(CART).json()["items"]}


def test_puts_of_different_products_to_one_guest_cart_all_land(racing_store, many_products):
    cart_id, guest = new_guest_cart()
    products = many_products[:30]

    statuses = run_concurrently(
        lambda i: put(guest_client(cart_id), products[i], i + 1).status_code, len(products)
    )

    assert statuses == [200] * len(products)
    assert lines(guest) == {product_id: i + 1 for i, product_id in enumerate(products)}


def test_first_puts_to_a_users_cart_all_land_in_one_cart(
    racing_store, many_products, token_factory
):
    token = token_factory.access(user_id=1)
    products = many_products[:30]

    statuses = run_concurrently(
        lambda i: put(signed_in(token), products[i], 2).status_code, len(products)
    )

    assert statuses == [200] * len(products)
    assert lines(signed_in(token)) == dict.fromkeys(products, 2)


def test_racing_for_the_last_lines_exactly_50_land(racing_store, many_products):
    cart_id, guest = new_guest_cart()
    for product_id in many_products[:40]:
        put(guest, product_id, 1)
    contenders = many_products[40:65]  # 25 new products for 10 free lines

    statuses = run_concurrently(
        lambda i: put(guest_client(cart_id), contenders[i], 1).status_code, len(contenders)
    )

    assert sorted(statuses) == [200] * 10 + [400] * 15
    held = lines(guest)
    assert len(held) == 50
    assert {pid for pid, status in zip(contenders, statuses, strict=True) if status == 200} == (
        set(held) - set(many_products[:40])
    )


def test_concurrent_merges_into_one_users_cart_lose_nothing(
    racing_store, many_products, token_factory
):
    token = token_factory.access(user_id=1)
    guests = []
    for i in range(20):
        cart_id, guest = new_guest_cart()
        put(guest, 1, 1)  # the same product in every guest cart
        put(guest, many_products[i], 3)  # and one of its own
        guests.append(cart_id)
    # While they merge, the user puts other products in.
    own = many_products[20:30]

    def merge_or_put(i):
        if i < len(guests):
            return (
                signed_in(token)
                .post("/api/cart/merge/", {"cart_id": guests[i]}, format="json")
                .status_code
            )
        return put(signed_in(token), own[i - len(guests)], 5).status_code

    statuses = run_concurrently(merge_or_put, len(guests) + len(own))

    assert statuses == [200] * (len(guests) + len(own))
    held = lines(signed_in(token))
    assert held == {1: 20, **dict.fromkeys(many_products[:20], 3), **dict.fromkeys(own, 5)}
    for cart_id in guests:
        assert guest_client(cart_id).get(CART).status_code == 404


def test_one_guest_cart_merged_by_many_at_once_is_merged_once(
    racing_store, catalogue, token_factory
):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 4)
    users = [signed_in(token_factory.access(user_id=10 + i)) for i in range(10)]

    statuses = run_concurrently(
        lambda i: (
            users[i].post("/api/cart/merge/", {"cart_id": cart_id}, format="json").status_code
        ),
        len(users),
    )

    assert sorted(statuses) == [200] + [404] * 9
    winner = users[statuses.index(200)]
    assert lines(winner) == {1: 4}
    assert sum(sum(lines(user).values()) for user in users) == 4
    assert cart_store().get(CartRef.guest(cart_id)) is None
