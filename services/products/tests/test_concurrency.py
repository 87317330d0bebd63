"""Reservations under real concurrency, on PostgreSQL: no oversell, no deadlock, no leak."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalogue.models import Category, Product
from catalogue.services import product_create
from inventory.models import Reservation
from inventory.selectors import stock_invariant_violations
from souk_common.testing import TokenFactory, run_concurrently
from tests.conftest import STAFF_ID

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SERVICE_TOKEN = TokenFactory().service(client_id="orders", scopes=["stock:reserve"])


def client():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")
    return api


def new_product(stock, sku):
    category, _ = Category.objects.get_or_create(slug="tea", defaults={"name": "Tea"})
    return product_create(
        data={
            "sku": sku,
            "name": sku,
            "price": Decimal("2.50"),
            "stock": stock,
            "category": category,
        }
    )


def reserve(reference, *lines):
    body = {"reference": reference, "items": [{"product_id": p, "quantity": q} for p, q in lines]}
    return client().post("/internal/reservations/", body, format="json")


def stock_of(product):
    return Product.objects.get(pk=product.pk).stock


def test_forty_buyers_for_ten_units_exactly_ten_succeed():
    product = new_product(10, "SCARCE")

    statuses = run_concurrently(lambda i: reserve(f"race-{i}", (product.pk, 1)).status_code, 40)

    assert sorted(statuses) == [201] * 10 + [409] * 30
    assert stock_of(product) == 0
    assert Reservation.objects.count() == 10
    assert stock_invariant_violations() == []


def test_multi_line_reservations_in_opposite_orders_never_deadlock():
    first, second = new_product(1000, "A"), new_product(1000, "B")

    def buy(i):
        lines = [(first.pk, 1), (second.pk, 1)]
        return reserve(f"pair-{i}", *(lines if i % 2 else reversed(lines))).status_code

    statuses = run_concurrently(buy, 30)

    assert statuses == [201] * 30
    assert (stock_of(first), stock_of(second)) == (970, 970)
    assert stock_invariant_violations() == []


def test_fifty_concurrent_replays_of_one_reference_take_stock_once():
    product = new_product(100, "REPLAYED")

    responses = run_concurrently(lambda i: reserve("same-order", (product.pk, 3)), 50)

    assert {r.status_code for r in responses} == {201}
    assert len({str(r.json()) for r in responses}) == 1
    assert stock_of(product) == 97
    assert Reservation.objects.count() == 1
    assert stock_invariant_violations() == []


def test_release_racing_reserve_leaks_nothing():
    product = new_product(500, "RACED")

    def race(i):
        reference = f"saga-{i // 2}"
        if i % 2:
            return client().post(f"/internal/reservations/{reference}/release/").status_code
        return reserve(reference, (product.pk, 2)).status_code

    statuses = run_concurrently(race, 60)

    assert all(status in (200, 201, 409) for status in statuses)
    # Every reference ended released, whichever came first: all stock is back.
    assert set(Reservation.objects.values_list("status", flat=True)) == {"released"}
    assert stock_of(product) == 500
    assert stock_invariant_violations() == []


def test_concurrent_restock_and_reservations_keep_the_ledger_true(users):
    product = new_product(50, "BUSY")
    staff_token = TokenFactory().access(user_id=STAFF_ID, is_staff=True)

    def work(i):
        if i % 5 == 0:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {staff_token}")
            current = stock_of(product)
            return api.patch(
                f"/api/products/{product.pk}/", {"stock": current + 10}, format="json"
            ).status_code
        return reserve(f"busy-{i}", (product.pk, 2)).status_code

    statuses = run_concurrently(work, 30)

    assert all(status in (200, 201, 409) for status in statuses)
    assert stock_invariant_violations() == []
