"""POST /api/orders/: the saga, as a client sees it (upstreams faked at the HTTP boundary)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import IdempotencyKey, Order
from orders.services import orders_reconcile
from souk_common.testing import Dropped, Hung
from tests.conftest import client_for, place

pytestmark = pytest.mark.django_db


def test_an_order_is_confirmed_with_the_products_services_names_and_prices(alice, products):
    response = place(alice, (1, 2), (2, 1))

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["items"] == [
        {
            "product_id": 1,
            "name": "Sencha",
            "unit_price": "9.50",
            "quantity": 2,
            "line_total": "19.00",
        },
        {
            "product_id": 2,
            "name": "Teapot",
            "unit_price": "39.00",
            "quantity": 1,
            "line_total": "39.00",
        },
    ]
    assert body["total"] == "58.00"
    order = Order.objects.get(pk=body["id"])
    assert (order.status, order.user_id, order.total) == ("confirmed", 1, Decimal("58.00"))
    assert (products.stock(1), products.stock(2)) == (8, 1)
    assert products.reservations[body["id"]]["status"] == "committed"
    assert [name for name, _ in products.calls] == ["reserve"]  # reserved and sold in one call


def test_a_products_service_that_only_holds_is_asked_to_commit(alice, products):
    products.ignores_commit = True  # e.g. one not yet upgraded, during a rolling deploy

    response = place(alice, (1, 2))

    assert response.status_code == 201
    assert products.reservations[response.json()["id"]]["status"] == "committed"
    assert [name for name, _ in products.calls] == ["reserve", "commit"]


def test_a_reservation_answered_as_released_is_never_confirmed(alice, products):
    # A replayed reservation that recovery released meanwhile: its stock is back.
    products.garble["reserve"] = lambda body: json.dumps({**body, "status": "released"})

    response = place(alice, (1, 2))

    assert response.status_code == 503
    assert Order.objects.get().status == "pending"  # left to the recovery
    assert products.count("commit") == 0
    Order.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    orders_reconcile(grace=timedelta(seconds=30))
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10


def test_a_fallback_commit_that_hangs_releases_the_stock(alice, products):
    products.ignores_commit = True
    products.failures["commit"] = Hung(seconds=1)

    response = place(alice, (1, 3))

    assert response.status_code == 504
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    assert products.count("release") == 1


def test_a_fallback_commit_refused_as_released_leaves_the_order_to_recovery(alice, products):
    # The recovery released the reservation between the saga's reserve and its commit.
    products.ignores_commit = True
    products.failures["commit"] = [409]

    response = place(alice, (1, 3))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert Order.objects.get().status == "pending"
    assert products.count("release") == 0


def test_the_answer_to_placing_is_the_order_as_read_later(alice, products):
    placed = place(alice, (1, 2), (2, 1)).json()

    assert alice.get(f"/api/orders/{placed['id']}/").json() == placed


def test_client_sent_prices_totals_status_and_owner_are_ignored(alice, products):
    body = {
        "items": [{"product_id": 1, "quantity": 1, "unit_price": "0.01", "name": "Free"}],
        "total": "0.01",
        "status": "cancelled",
        "user_id": 2,
    }

    response = alice.post("/api/orders/", body, format="json")

    assert response.status_code == 201
    order = Order.objects.get()
    assert (order.user_id, order.status, order.total) == (1, "confirmed", Decimal("9.50"))
    assert response.json()["items"][0]["name"] == "Sencha"


def test_duplicate_product_lines_are_merged(alice, products):
    response = place(alice, (1, 2), (1, 3))

    assert response.json()["items"][0]["quantity"] == 5
    assert products.stock(1) == 5


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"product_id": n, "quantity": 1} for n in range(1, 52)]},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 1001}]},
        {"items": [{"product_id": 1, "quantity": 600}, {"product_id": 1, "quantity": 600}]},
        {"items": [{"product_id": 1, "quantity": "2"}]},
        {"items": [{"product_id": 1, "quantity": 2.0}]},
        {"items": [{"product_id": True, "quantity": 1}]},
        {"items": [{"product_id": 0, "quantity": 1}]},
        {"items": [{"product_id": 1}]},
        {"items": [{"product_id": 1, "quantity": 1, "colour": "red"}]},
        {"items": [{"product_id": 1, "quantity": 1}], "coupon": "FREE"},
        {"items": "lots"},
        {},
    ],
)
def test_invalid_requests_are_400_and_touch_nothing(alice, products, body):
    response = alice.post("/api/orders/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Order.objects.exists()
    assert products.calls == []


@pytest.mark.parametrize("body", ["[" * 100_000, '{"items":' * 5_000 + "1" + "}" * 5_000])
def test_deeply_nested_json_is_a_400_not_a_crash(alice, products, body):
    response = alice.post("/api/orders/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Order.objects.exists()
    assert products.calls == []


def test_unknown_or_retired_products_are_400_naming_them(alice, products):
    response = place(alice, (1, 1), (3, 1), (404, 1))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["unavailable_products"] == [3, 404]
    assert Order.objects.get().status == "rejected"
    assert products.stock(1) == 10


def test_short_stock_is_409_naming_the_short_lines_and_nothing_is_held(alice, products):
    response = place(alice, (1, 1), (2, 5))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == [{"product_id": 2, "requested": 5, "available": 2}]
    assert Order.objects.get().status == "rejected"
    assert (products.stock(1), products.stock(2)) == (10, 2)


def test_unreachable_products_is_503_and_no_stock_is_lost(alice, products):
    products.failures["reserve"] = Dropped()

    response = place(alice, (1, 1))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert response["Retry-After"] == "2"
    order = Order.objects.get()
    assert order.status == "failed"
    assert products.count("release") == 1
    assert products.stock(1) == 10


def test_a_products_service_too_slow_is_504_and_the_reservation_is_released(alice, products):
    products.lost_answers["reserve"] = Hung(seconds=1)  # after taking stock

    response = place(alice, (1, 3))

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    assert products.count("release") == 1


def test_when_even_the_release_fails_the_order_waits_for_recovery(alice, products):
    products.failures["reserve"] = Hung(seconds=1)
    products.failures["release"] = Hung(seconds=1)

    response = place(alice, (1, 1))

    assert response.status_code == 504
    assert Order.objects.get().status == "failing"


def test_a_deactivated_user_cannot_order_even_with_a_valid_token(alice, users, products):
    users.inactive.add(1)

    response = place(alice, (1, 1))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Order.objects.exists()
    assert products.calls == []


def test_a_deleted_user_cannot_order(alice, users, products):
    users.missing.add(1)

    assert place(alice, (1, 1)).status_code == 403


def test_users_service_down_is_503_and_no_order(alice, users, products):
    users.failure = Dropped()

    response = place(alice, (1, 1))

    assert response.status_code == 503
    assert not Order.objects.exists()


def test_a_service_token_cannot_place_orders(token_factory, products):
    client = client_for(token_factory.service(scopes=["stock:reserve", "users:read"]))

    assert place(client, (1, 1)).status_code == 403


def test_anonymous_is_401(products):
    response = place(APIClient(), (1, 1))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_one_call_each_whatever_the_number_of_lines(alice, products, users):
    for pid in range(10, 30):
        products.add(pid, f"P{pid}", "1.00", stock=5)

    response = place(alice, *[(pid, 1) for pid in range(10, 30)])

    assert response.status_code == 201
    assert users.lookups == 1
    assert [name for name, _ in products.calls] == ["reserve"]
    assert not IdempotencyKey.objects.exists()
