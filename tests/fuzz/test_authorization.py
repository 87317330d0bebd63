"""What a fuzzer cannot find: each user's objects are invisible to every other user.

Two users place orders; for every route that takes an order id, each user
asking with the other's ids gets 404 -- exactly what an id that does not exist
gets, so ids leak nothing -- and nothing changes. Account administration is
for staff only, whoever's id is asked for.
"""

from __future__ import annotations

import uuid

import pytest

from harness import bearer, create_accounts, new_product, place_order


@pytest.fixture(scope="module")
def two_shoppers(system):
    product = new_product(system, stock=100)
    shoppers = []
    for user_id, token in create_accounts(system, 2, f"authz{uuid.uuid4().hex[:6]}-"):
        confirmed = place_order(system, token, [(product, 1)]).json()["id"]
        rejected = place_order(system, token, [(product, 1000)]).json()["error"]["details"][
            "order_id"
        ]
        shoppers.append({"user_id": user_id, "token": token, "orders": [confirmed, rejected]})
    return shoppers


ORDER_ROUTES = [
    ("get", "/api/orders/{id}/"),
    ("post", "/api/orders/{id}/cancel/"),
    ("put", "/api/orders/{id}/"),
    ("patch", "/api/orders/{id}/"),
    ("delete", "/api/orders/{id}/"),
]


@pytest.mark.parametrize(("method", "route"), ORDER_ROUTES)
def test_anothers_order_is_404_on_every_route(system, two_shoppers, method, route):
    for me, other in (two_shoppers, reversed(two_shoppers)):
        for order_id in other["orders"]:
            response = getattr(system.http, method)(
                f"{system.gateway}{route.format(id=order_id)}",
                headers=bearer(me["token"]),
                timeout=10,
            )
            assert response.status_code in (404, 405), (method, route, response.status_code)
            if method in ("get", "post"):
                assert response.status_code == 404
            assert "user_id" not in response.text  # nothing of the order leaks


def test_a_made_up_order_id_looks_exactly_the_same(system, two_shoppers):
    me = two_shoppers[0]
    unknown = system.http.get(
        f"{system.gateway}/api/orders/{uuid.uuid4()}/", headers=bearer(me["token"]), timeout=10
    )
    others = system.http.get(
        f"{system.gateway}/api/orders/{two_shoppers[1]['orders'][0]}/",
        headers=bearer(me["token"]),
        timeout=10,
    )

    assert unknown.status_code == others.status_code == 404
    assert unknown.json()["error"]["message"] == others.json()["error"]["message"]


def test_the_other_users_orders_never_appear_in_my_list(system, two_shoppers):
    for me, other in (two_shoppers, list(reversed(two_shoppers))):
        for user_filter in ({}, {"user_id": other["user_id"]}):
            listed = system.http.get(
                f"{system.gateway}/api/orders/",
                params=user_filter,
                headers=bearer(me["token"]),
                timeout=10,
            ).json()["results"]
            assert {order["id"] for order in listed} == set(me["orders"])


def test_nothing_was_changed_by_the_attempts(system, two_shoppers):
    for shopper in two_shoppers:
        confirmed = system.http.get(
            f"{system.gateway}/api/orders/{shopper['orders'][0]}/",
            headers=bearer(shopper["token"]),
            timeout=10,
        ).json()
        assert confirmed["status"] == "confirmed"


@pytest.mark.parametrize("method", ["get", "patch"])
def test_account_administration_is_staff_only_whoever_is_asked_for(system, two_shoppers, method):
    me, other = two_shoppers
    for user_id in (other["user_id"], me["user_id"]):
        response = getattr(system.http, method)(
            f"{system.gateway}/api/users/{user_id}/",
            json={"is_staff": True},
            headers=bearer(me["token"]),
            timeout=10,
        )
        assert response.status_code == 403
    assert (
        system.http.get(
            f"{system.gateway}/api/users/me/", headers=bearer(me["token"]), timeout=10
        ).json()["is_staff"]
        is False
    )


def test_internal_apis_refuse_user_tokens_even_directly(system, two_shoppers):
    me, other = two_shoppers
    user_lookup = system.http.get(
        f"{system.url('users')}/internal/users/{other['user_id']}/",
        headers=bearer(me["token"]),
        timeout=10,
    )
    release = system.http.post(
        f"{system.url('products')}/internal/reservations/{other['orders'][0]}/release/",
        headers=bearer(me["token"]),
        timeout=10,
    )

    assert user_lookup.status_code == 403
    assert release.status_code == 403
