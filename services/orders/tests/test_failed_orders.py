"""An order refused or failed before anything was sold reads like any other: listed and
shown with its status (rejected, failed), its lines named and priced from the catalogue,
and a total of its lines; never a blank name and a null total (docs/architecture.md, "The
order's life")."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services import orders_reconcile
from souk_common.testing import Dropped
from tests.conftest import ADDRESS, checkout, place

pytestmark = pytest.mark.django_db


def line(product_id, name, unit_price, quantity, line_total):
    return {
        "product_id": product_id,
        "name": name,
        "unit_price": unit_price,
        "quantity": quantity,
        "line_total": line_total,
    }


def listed(client):
    return {order["id"]: order for order in client.get("/api/orders/").json()["results"]}


def test_an_order_refused_for_short_stock_is_listed_rejected_with_names_and_total(alice, products):
    refused = place(alice, (1, 2), (2, 5))  # 2 Sencha are there; 5 Teapots are not
    order_id = refused.json()["error"]["details"]["order_id"]

    order = listed(alice)[order_id]

    assert refused.status_code == 409
    assert order["status"] == "rejected"
    assert order["items"] == [
        line(1, "Sencha", "9.50", 2, "19.00"),
        line(2, "Teapot", "39.00", 5, "195.00"),
    ]
    assert order["total"] == "214.00"
    assert alice.get(f"/api/orders/{order_id}/").json() == order
    assert (products.stock(1), products.stock(2)) == (10, 2)  # nothing held


def test_an_order_refused_for_a_retired_product_names_what_is_on_sale_and_has_no_total(
    alice, products
):
    order_id = place(alice, (1, 1), (3, 1)).json()["error"]["details"]["order_id"]

    order = alice.get(f"/api/orders/{order_id}/").json()

    assert order["status"] == "rejected"
    assert order["items"] == [line(1, "Sencha", "9.50", 1, "9.50"), line(3, "", None, 1, None)]
    assert order["total"] is None  # a product not on sale has no price to add up


def test_a_checkout_refused_for_short_stock_has_its_lines_subtotal_and_total(alice, shop, cart):
    cart.fill(1, (2, 3))

    order_id = checkout(alice).json()["error"]["details"]["order_id"]

    order = alice.get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "rejected"
    assert order["items"] == [line(2, "Teapot", "39.00", 3, "117.00")]
    assert (order["subtotal"], order["shipping_cost"], order["total"]) == (
        "117.00",
        None,
        "117.00",
    )


def test_a_checkout_refused_for_its_country_keeps_the_reservations_names_and_prices(
    alice, shop, cart
):
    products, _ = shop
    cart.fill(1, (1, 2))

    order_id = checkout(alice, address={**ADDRESS, "country": "US"}).json()["error"]["details"][
        "order_id"
    ]

    order = alice.get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "rejected"
    assert order["items"] == [line(1, "Sencha", "9.50", 2, "19.00")]
    assert order["total"] == "19.00"
    assert products.count("catalogue") == 0  # products had priced them already


def test_an_order_failed_while_products_was_unreachable_is_named_once_it_answers(alice, products):
    products.failures["reserve"] = Dropped()

    order_id = place(alice, (2, 1)).json()["error"]["details"]["order_id"]

    order = alice.get(f"/api/orders/{order_id}/").json()
    assert order["status"] == "failed"
    assert order["items"] == [line(2, "Teapot", "39.00", 1, "39.00")]
    assert order["total"] == "39.00"


def test_an_order_the_recovery_fails_is_named_too(products):
    order = Order.objects.create(user_id=1)  # a crash left it pending, never reserved
    order.lines.create(product_id=1, quantity=3)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    orders_reconcile(grace=timedelta(seconds=30))

    order.refresh_from_db()
    assert (order.status, order.total) == ("failed", Decimal("28.50"))
    assert list(order.lines.values_list("name", "unit_price")) == [("Sencha", Decimal("9.50"))]


def test_an_order_refused_while_the_catalogue_cannot_be_read_is_rejected_all_the_same(
    alice, products
):
    products.failures["catalogue"] = 500

    response = place(alice, (2, 5))

    assert response.status_code == 409
    order = Order.objects.get()
    assert (order.status, order.total) == ("rejected", None)  # unnamed, but settled


def test_the_catalogue_is_not_asked_again_when_it_fails(alice, products):
    products.failures["catalogue"] = Dropped()

    response = place(alice, (2, 5))

    assert response.status_code == 409
    # One attempt, not retried (a pooled connection found closed is replaced, once): the
    # client waits for its refusal meanwhile.
    assert products.count("catalogue") <= 2
    assert Order.objects.get().status == "rejected"
