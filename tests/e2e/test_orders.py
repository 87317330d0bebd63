"""Orders through the gateway, against the real users and products services (contract §6)."""

import uuid

import pytest

from harness import (
    admin_headers,
    bearer,
    check_stock_invariant,
    create_accounts,
    new_product,
    place_order,
    product_stock,
    register_and_sign_in,
)
from souk_common.testing import run_concurrently


def test_place_list_read_and_cancel_an_order(system):
    product = new_product(system, stock=5, price="3.20")
    token = register_and_sign_in(system, f"buyer{uuid.uuid4().hex[:6]}")["access"]

    placed = place_order(system, token, [(product, 2)])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "confirmed"
    assert order["total"] == "6.40"
    assert product_stock(system, product) == 3

    listed = system.http.get(f"{system.gateway}/api/orders/", headers=bearer(token), timeout=5)
    assert [o["id"] for o in listed.json()["results"]] == [order["id"]]

    cancelled = system.http.post(
        f"{system.gateway}/api/orders/{order['id']}/cancel/", headers=bearer(token), timeout=10
    )
    again = system.http.post(
        f"{system.gateway}/api/orders/{order['id']}/cancel/", headers=bearer(token), timeout=10
    )
    assert cancelled.json()["status"] == again.json()["status"] == "cancelled"
    assert product_stock(system, product) == 5
    check_stock_invariant(system)


def test_another_users_order_is_404(system):
    product = new_product(system, stock=5)
    owner = register_and_sign_in(system, f"owner{uuid.uuid4().hex[:6]}")["access"]
    other = register_and_sign_in(system, f"other{uuid.uuid4().hex[:6]}")["access"]
    order_id = place_order(system, owner, [(product, 1)]).json()["id"]

    response = system.http.get(
        f"{system.gateway}/api/orders/{order_id}/", headers=bearer(other), timeout=5
    )

    assert response.status_code == 404


def test_short_stock_and_unknown_products(system):
    product = new_product(system, stock=1)
    token = register_and_sign_in(system, f"short{uuid.uuid4().hex[:6]}")["access"]

    short = place_order(system, token, [(product, 2)])
    unknown = place_order(system, token, [(product, 1), (987654321, 1)])

    assert short.status_code == 409
    assert short.json()["error"]["details"]["lines"][0]["available"] == 1
    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"]["unavailable_products"] == [987654321]
    assert product_stock(system, product) == 1


def test_idempotency_key_through_the_gateway(system):
    product = new_product(system, stock=10)
    token = register_and_sign_in(system, f"idem{uuid.uuid4().hex[:6]}")["access"]

    first = place_order(system, token, [(product, 2)], key="e2e-key")
    second = place_order(system, token, [(product, 2)], key="e2e-key")
    other = place_order(system, token, [(product, 3)], key="e2e-key")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert other.status_code == 422
    assert product_stock(system, product) == 8


def test_a_deactivated_user_cannot_order_with_a_still_valid_token(system):
    product = new_product(system, stock=5)
    pair = register_and_sign_in(system, f"gone{uuid.uuid4().hex[:6]}")
    me = system.http.get(
        f"{system.gateway}/api/users/me/", headers=bearer(pair["access"]), timeout=5
    )
    system.http.patch(
        f"{system.gateway}/api/users/{me.json()['id']}/",
        json={"is_active": False},
        headers=admin_headers(system),
        timeout=5,
    )

    response = place_order(system, pair["access"], [(product, 1)])

    assert response.status_code == 403
    assert product_stock(system, product) == 5


def test_forty_users_racing_for_ten_units_exactly_ten_orders_confirmed(system, on_postgres):
    if not on_postgres:
        pytest.skip("needs PostgreSQL (concurrency)")
    product = new_product(system, stock=10)
    accounts = create_accounts(system, 40, f"racer{uuid.uuid4().hex[:6]}-")

    responses = run_concurrently(
        lambda i: place_order(system, accounts[i][1], [(product, 1)]), len(accounts)
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 30
    assert product_stock(system, product) == 0
    check_stock_invariant(system)
