"""POST /api/checkout/: the cart checked out, as a client sees it (users, products, cart and
shipping faked at the HTTP boundary): the order awaiting payment with its stock held, or
nothing held and the reason why."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders import clients
from orders.models import Order
from orders.services import orders_reconcile
from souk_common.events.models import OutboxEvent
from souk_common.testing import Dropped, Hung
from tests.conftest import ADDRESS, checkout, client_for

pytestmark = pytest.mark.django_db


def published(type):
    return [event.envelope for event in OutboxEvent.objects.filter(type=type).order_by("id")]


def test_a_checkout_holds_the_carts_stock_and_awaits_payment(alice, shop, cart, shipping):
    products, _ = shop
    cart.fill(1, (1, 2), (2, 1))

    response = checkout(alice)

    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == f"/api/orders/{body['id']}/"
    assert body["status"] == "awaiting_payment"
    # Names and prices are the products service's, never the cart's.
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
    # FR: 4.90 + 0.50 an item, for 3 items.
    assert (body["subtotal"], body["shipping_cost"], body["total"]) == ("58.00", "6.40", "64.40")
    assert body["shipping_address"] == ADDRESS
    assert (body["payment"], body["shipment"]) == (None, None)
    assert body["user_id"] == 1
    # Held, not sold: the payment decides.
    assert products.reservations[body["id"]]["status"] == "reserved"
    assert (products.stock(1), products.stock(2)) == (8, 1)
    assert [name for name, _ in products.calls] == ["reserve"]
    assert shipping.quotes == [
        {"subtotal": "58.00", "item_count": 3, "address": {"country": "FR", "postal_code": "75011"}}
    ]
    # The cart was read, then emptied once the order was placed.
    assert cart.calls == [("get", 1), ("empty", 1)]
    assert 1 not in cart.carts
    order = Order.objects.get()
    assert (order.kind, order.status, order.total) == (
        "checkout",
        "awaiting_payment",
        Decimal("64.40"),
    )
    assert order.placed_at is not None


def test_order_placed_is_published_with_the_order_and_the_payment_token(alice, shop, cart):
    cart.fill(1, (1, 2), (2, 1))

    body = checkout(alice, token="tok_mastercard").json()

    [placed] = published("order.placed")
    assert (placed["version"], placed["source"]) == (1, "orders")
    data = placed["data"]
    assert data.pop("created_at").startswith(body["created_at"][:19])
    assert data == {
        "order_id": body["id"],
        "user_id": 1,
        "status": "awaiting_payment",
        "items": body["items"],
        "subtotal": "58.00",
        "shipping_cost": "6.40",
        "total": "64.40",
        "shipping_address": ADDRESS,
        "payment_token": "tok_mastercard",
    }
    assert OutboxEvent.objects.count() == 1  # no order.confirmed: a checkout is not a sale
    # The relay redacts the token in the outbox once it has sent it (souk_common.events).
    assert OutboxEvent.objects.get().secrets == ["payment_token"]


def test_the_answer_is_the_order_as_read_later_and_listed(alice, shop, cart):
    cart.fill(1, (1, 1))

    placed = checkout(alice)

    assert alice.get(placed["Location"]).json() == placed.json()
    assert alice.get("/api/orders/").json()["results"] == [placed.json()]


def test_free_shipping_over_the_countrys_threshold(alice, shop, cart):
    cart.fill(1, (2, 2), (1, 3))  # 78.00 + 28.50

    body = checkout(alice).json()

    assert (body["subtotal"], body["shipping_cost"], body["total"]) == ("106.50", "0.00", "106.50")


def test_a_guest_cart_is_merged_into_the_users_before_checking_out(alice, shop, cart):
    cart.fill(1, (2, 1))
    cart.guests["guest-cart-1"] = {1: 3}

    response = checkout(alice, cart_id="guest-cart-1")

    assert response.status_code == 202
    assert [(item["product_id"], item["quantity"]) for item in response.json()["items"]] == [
        (1, 3),
        (2, 1),
    ]
    assert cart.calls == [("merge", 1), ("empty", 1)]
    assert "guest-cart-1" not in cart.guests


def test_an_unknown_or_expired_guest_cart_is_400_and_nothing_is_recorded(alice, shop, cart):
    products, _ = shop
    cart.fill(1, (1, 1))

    response = checkout(alice, cart_id="expired-cart")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["cart_id"]
    assert not Order.objects.exists()
    assert products.calls == []


def test_a_guest_cart_that_cannot_be_merged_is_400_and_nothing_is_recorded(alice, shop, cart):
    products, _ = shop
    cart.fill(1, *((pid, 1) for pid in range(100, 140)))
    cart.guests["guest-big"] = dict.fromkeys(range(200, 220), 1)

    response = checkout(alice, cart_id="guest-big")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"cart_id": ["A cart holds at most 50 products."]}
    assert "guest-big" in cart.guests
    assert not Order.objects.exists()
    assert products.calls == []


def test_an_empty_cart_is_400_and_nothing_is_recorded(alice, shop, cart, shipping):
    products, _ = shop

    response = checkout(alice)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"cart": ["Your cart is empty."]}
    assert not Order.objects.exists()
    assert products.calls == []
    assert shipping.quotes == []


def test_a_lowercase_country_is_taken_as_its_code(alice, shop, cart, shipping):
    cart.fill(1, (1, 1))

    response = checkout(alice, address={**ADDRESS, "country": "gb", "line2": ""})

    assert response.status_code == 202
    assert response.json()["shipping_address"] == {**ADDRESS, "country": "GB", "line2": ""}
    assert shipping.quotes[0]["address"]["country"] == "GB"


def test_line2_may_be_left_out(alice, shop, cart):
    cart.fill(1, (1, 1))
    address = {name: value for name, value in ADDRESS.items() if name != "line2"}

    response = checkout(alice, address=address)

    assert response.status_code == 202
    assert response.json()["shipping_address"] == {**address, "line2": ""}


def test_client_sent_prices_totals_status_and_owner_are_ignored(alice, shop, cart):
    cart.fill(1, (1, 1))

    response = checkout(
        alice, total="0.01", subtotal="0.01", shipping_cost="0.00", status="paid", user_id=2
    )

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["total"], body["user_id"]) == ("awaiting_payment", "14.90", 1)


def address_with(**changes):
    return {**ADDRESS, **changes}


def address_without(name):
    return {key: value for key, value in ADDRESS.items() if key != name}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"payment_token": "tok_visa"}, id="no address"),
        pytest.param({"shipping_address": ADDRESS}, id="no token"),
        pytest.param({"shipping_address": ADDRESS, "payment_token": ""}, id="empty token"),
        pytest.param({"shipping_address": ADDRESS, "payment_token": "t" * 129}, id="long token"),
        pytest.param({"shipping_address": ADDRESS, "payment_token": "tok visa"}, id="token space"),
        pytest.param({"shipping_address": ADDRESS, "payment_token": 42}, id="token number"),
        pytest.param({"shipping_address": "Paris", "payment_token": "tok_visa"}, id="address text"),
        *(
            pytest.param(
                {"shipping_address": address_without(name), "payment_token": "tok_visa"},
                id=f"no {name}",
            )
            for name in ("name", "line1", "city", "postal_code", "country")
        ),
        *(
            pytest.param(
                {"shipping_address": address_with(**change), "payment_token": "tok_visa"},
                id=f"{next(iter(change))}={next(iter(change.values()))!r}"[:40],
            )
            for change in (
                {"name": ""},
                {"name": "   "},
                {"line1": "x" * 201},
                {"line2": None},
                {"city": ""},
                {"postal_code": "1" * 21},
                {"country": "XX"},
                {"country": "FRA"},
                {"country": "F"},
                {"country": 33},
                {"floor": "3"},
            )
        ),
        pytest.param(
            {"shipping_address": ADDRESS, "payment_token": "tok_visa", "coupon": "FREE"},
            id="unknown field",
        ),
        pytest.param(
            {
                "shipping_address": ADDRESS,
                "payment_token": "tok_visa",
                "items": [{"product_id": 1, "quantity": 1}],
            },
            id="items: the cart's, not the request's",
        ),
        pytest.param(
            {"shipping_address": ADDRESS, "payment_token": "tok_visa", "cart_id": "../x"},
            id="cart id",
        ),
    ],
)
def test_invalid_requests_are_400_and_touch_nothing(alice, shop, cart, shipping, body):
    products, _ = shop
    cart.fill(1, (1, 1))

    response = alice.post("/api/checkout/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Order.objects.exists()
    assert products.calls == []
    assert cart.calls == []
    assert shipping.quotes == []


def test_a_country_not_shipped_to_is_400_and_its_stock_is_released(alice, shop, cart, shipping):
    products, _ = shop
    cart.fill(1, (1, 2))

    response = checkout(alice, address=address_with(country="US"))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["shipping_address"] == {"country": ["We do not ship to US."]}
    assert error["details"]["order_status"] == "rejected"
    assert Order.objects.get().status == "rejected"
    assert [name for name, _ in products.calls] == ["reserve", "release"]
    assert products.stock(1) == 10
    assert not OutboxEvent.objects.exists()
    assert cart.carts[1] == {1: 2}  # the cart is kept: nothing was ordered


def test_short_stock_is_409_naming_the_lines_and_nothing_is_held(alice, shop, cart, shipping):
    products, _ = shop
    cart.fill(1, (1, 1), (2, 5))

    response = checkout(alice)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == [{"product_id": 2, "requested": 5, "available": 2}]
    assert Order.objects.get().status == "rejected"
    assert (products.stock(1), products.stock(2)) == (10, 2)
    assert shipping.quotes == []
    assert not OutboxEvent.objects.exists()
    assert cart.count("empty") == 0


def test_a_retired_product_in_the_cart_is_400_naming_it(alice, shop, cart):
    products, _ = shop
    cart.fill(1, (1, 1), (3, 1))

    response = checkout(alice)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["unavailable_products"] == [3]
    assert products.stock(1) == 10
    assert Order.objects.get().status == "rejected"


@pytest.mark.parametrize(
    ("failure", "status"),
    [pytest.param(Dropped(), 503, id="unreachable"), pytest.param(Hung(1), 504, id="hung")],
)
def test_a_cart_service_down_is_503_or_504_and_nothing_is_recorded(
    alice, shop, cart, failure, status
):
    products, _ = shop
    cart.fill(1, (1, 1))
    cart.failures["get"] = failure

    response = checkout(alice)

    assert response.status_code == status
    assert not Order.objects.exists()
    assert products.calls == []


def test_unreachable_products_is_503_and_nothing_is_held(alice, shop, cart, shipping):
    products, _ = shop
    cart.fill(1, (1, 1))
    products.failures["reserve"] = Dropped()

    response = checkout(alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert products.count("release") == 1
    assert products.stock(1) == 10
    assert shipping.quotes == []
    assert cart.count("empty") == 0


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        pytest.param(Dropped(), 503, "upstream_unavailable", id="unreachable"),
        pytest.param(Hung(1), 504, "upstream_timeout", id="hung"),
        pytest.param(500, 503, "upstream_unavailable", id="failing"),
    ],
)
def test_a_shipping_service_down_releases_the_stock(
    alice, shop, cart, shipping, failure, status, code
):
    products, _ = shop
    cart.fill(1, (1, 3))
    shipping.failures["quote"] = failure

    response = checkout(alice)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert [name for name, _ in products.calls] == ["reserve", "release"]
    assert products.stock(1) == 10
    assert not OutboxEvent.objects.exists()
    assert cart.carts[1] == {1: 3}


@pytest.mark.parametrize(
    "answer",
    [
        {"cost": 4.9, "carrier": "La Poste", "estimated_days": 3},
        {"cost": "-1.00", "carrier": "La Poste", "estimated_days": 3},
        {"cost": "4.999", "carrier": "La Poste", "estimated_days": 3},
        {"cost": "4.90", "carrier": "", "estimated_days": 3},
        {"cost": "4.90", "carrier": "La Poste"},
        [],
    ],
)
def test_a_quote_that_makes_no_sense_is_502_and_the_stock_is_released(
    alice, shop, cart, shipping, answer
):
    products, _ = shop
    cart.fill(1, (1, 3))
    shipping.garble["quote"] = lambda body: json.dumps(answer)

    response = checkout(alice)

    assert response.status_code == 502
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10


def test_a_cart_that_cannot_be_emptied_leaves_the_order_standing(alice, shop, cart, caplog):
    cart.fill(1, (1, 1))
    cart.failures["empty"] = Dropped()

    response = checkout(alice)

    assert response.status_code == 202
    assert Order.objects.get().status == "awaiting_payment"
    assert len(published("order.placed")) == 1
    assert cart.carts[1] == {1: 1}
    assert "its cart was not emptied" in caplog.text


def test_an_interrupted_checkout_is_settled_by_recovery(alice, shop, cart, shipping):
    # Shipping hangs, and so does the release that would undo the hold: the order is left
    # failing, its stock held, until reconcile_orders releases it.
    products, _ = shop
    cart.fill(1, (1, 4))
    shipping.failures["quote"] = Hung(1)
    products.failures["release"] = Hung(1)

    response = checkout(alice, key="interrupted")

    assert response.status_code == 504
    assert Order.objects.get().status == "failing"
    assert products.stock(1) == 6
    assert checkout(alice, key="interrupted").status_code == 409  # still being settled

    products.failures.clear()
    orders_reconcile(grace=timedelta(seconds=30))

    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    replay = checkout(alice, key="interrupted")
    assert replay.status_code == 503
    assert replay.json()["error"]["details"]["order_status"] == "failed"
    assert not OutboxEvent.objects.exists()


def test_a_checkout_a_crash_left_pending_is_released_and_failed(shop):
    # The process died after products held the stock, before shipping quoted it.
    products, _ = shop
    order = Order.objects.create(user_id=1, kind="checkout", shipping_address=ADDRESS)
    order.lines.create(product_id=1, quantity=2)
    clients.products().reserve(order.reference, [(1, 2)])
    assert products.stock(1) == 8
    Order.objects.update(updated_at=timezone.now() - timedelta(minutes=5))

    orders_reconcile(grace=timedelta(seconds=30))

    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    assert not OutboxEvent.objects.exists()


def test_a_deactivated_user_cannot_check_out(alice, shop, cart):
    products, users = shop
    cart.fill(1, (1, 1))
    users.inactive.add(1)

    response = checkout(alice)

    assert response.status_code == 403
    assert not Order.objects.exists()
    assert products.calls == []
    assert cart.calls == []


def test_anonymous_is_401_and_a_service_token_403(token_factory, shop, cart):
    service = client_for(token_factory.service(scopes=["stock:reserve", "cart:checkout"]))

    assert checkout(APIClient()).status_code == 401
    assert checkout(service).status_code == 403
    assert cart.calls == []
