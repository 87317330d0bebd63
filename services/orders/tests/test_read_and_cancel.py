"""Listing, reading and cancelling orders: your own only (404 otherwise), staff any (while
the users service says they are staff)."""

import pytest

from orders.models import Order
from souk_common.testing import FORGED_TOKEN_KINDS, Dropped
from tests.conftest import STAFF_ID, client_for, place

pytestmark = pytest.mark.django_db


def test_a_user_lists_only_their_orders(alice, bob, products):
    place(alice, (1, 1))
    place(bob, (1, 1))

    body = alice.get("/api/orders/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["results"][0]["user_id"] == 1


def test_user_id_filter_is_ignored_for_users(alice, bob, products):
    place(bob, (1, 1))

    assert alice.get("/api/orders/", {"user_id": 2}).json()["count"] == 0


def test_staff_list_everyone_and_filter_by_user(alice, bob, staff, products):
    place(alice, (1, 1))
    place(bob, (1, 1))

    assert staff.get("/api/orders/").json()["count"] == 2
    only_bob = staff.get("/api/orders/", {"user_id": 2}).json()
    assert [o["user_id"] for o in only_bob["results"]] == [2]
    assert staff.get("/api/orders/", {"user_id": "x"}).status_code == 400


@pytest.mark.parametrize("user_id", ["x", "²", "①", "1" * 5_000, "0", "-1", str(2**63)])
def test_a_user_id_filter_that_is_not_a_user_id_is_400_never_500(staff, user_id):
    response = staff.get("/api/orders/", {"user_id": user_id})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["user_id"]


@pytest.mark.parametrize("page_size", [2, 50])
def test_the_list_costs_the_same_queries_whatever_the_page_size(
    staff, django_assert_num_queries, page_size
):
    for index in range(30):
        order = Order.objects.create(user_id=index % 3, status="confirmed")
        order.lines.create(product_id=1, quantity=1, name="Sencha", unit_price="1.00")
        order.lines.create(product_id=2, quantity=2, name="Teapot", unit_price="2.00")

    # The page of orders, their lines, and the count unless the page holds every order.
    with django_assert_num_queries(3 if page_size < 30 else 2):
        response = staff.get("/api/orders/", {"page_size": page_size})

    assert len(response.json()["results"]) == min(page_size, 30)


def test_detail_of_your_own_order(alice, products):
    order_id = place(alice, (1, 1)).json()["id"]

    response = alice.get(f"/api/orders/{order_id}/")

    assert response.status_code == 200
    assert response.json()["id"] == order_id


def test_someone_elses_order_is_404_never_403(alice, bob, products):
    order_id = place(alice, (1, 1)).json()["id"]

    for response in (
        bob.get(f"/api/orders/{order_id}/"),
        bob.post(f"/api/orders/{order_id}/cancel/"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert Order.objects.get(pk=order_id).status == "confirmed"


def test_staff_read_any_order(alice, staff, products):
    order_id = place(alice, (1, 1)).json()["id"]

    assert staff.get(f"/api/orders/{order_id}/").status_code == 200


def test_a_malformed_order_id_is_404(alice):
    assert alice.get("/api/orders/not-a-uuid/").status_code == 404


def test_cancel_returns_the_stock_once(alice, products):
    order_id = place(alice, (1, 4)).json()["id"]

    first = alice.post(f"/api/orders/{order_id}/cancel/")
    second = alice.post(f"/api/orders/{order_id}/cancel/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert products.stock(1) == 10
    assert products.count("release") == 1


def test_the_answer_to_cancelling_is_the_order_as_read_later(alice, products):
    order_id = place(alice, (1, 2), (2, 1)).json()["id"]

    cancelled = alice.post(f"/api/orders/{order_id}/cancel/").json()
    again = alice.post(f"/api/orders/{order_id}/cancel/").json()

    assert cancelled["status"] == "cancelled"
    assert alice.get(f"/api/orders/{order_id}/").json() == cancelled == again


def test_staff_can_cancel_anyones_order(alice, staff, products):
    order_id = place(alice, (1, 1)).json()["id"]

    assert staff.post(f"/api/orders/{order_id}/cancel/").json()["status"] == "cancelled"


def test_a_demoted_staff_member_sees_only_their_own_after_the_cache_lifetime(
    alice, bob, staff, users, account_clock
):
    order_id = place(alice, (1, 1)).json()["id"]
    place(bob, (1, 1))
    assert staff.get("/api/orders/").json()["count"] == 2

    users.staff.discard(STAFF_ID)  # demoted in the users service; the token still says staff
    account_clock.now += 5  # SOUK["ACCOUNT_CACHE_SECONDS"]

    assert staff.get("/api/orders/").json()["count"] == 0  # their own: none
    assert staff.get("/api/orders/", {"user_id": 1}).json()["count"] == 0
    assert staff.get(f"/api/orders/{order_id}/").status_code == 404
    assert staff.post(f"/api/orders/{order_id}/cancel/").status_code == 404
    assert Order.objects.get(pk=order_id).status == "confirmed"


def test_a_deactivated_staff_member_cannot_read_others_orders(alice, staff, users):
    order_id = place(alice, (1, 1)).json()["id"]
    users.inactive.add(STAFF_ID)

    assert staff.get("/api/orders/").json()["count"] == 0
    assert staff.get(f"/api/orders/{order_id}/").status_code == 404


def test_when_users_cannot_be_asked_staff_reads_fail_closed(alice, staff, users):
    order_id = place(alice, (1, 1)).json()["id"]
    users.failure = Dropped()

    listing = staff.get("/api/orders/")
    cancelling = staff.post(f"/api/orders/{order_id}/cancel/")

    assert (listing.status_code, cancelling.status_code) == (503, 503)
    assert listing.json()["error"]["code"] == "upstream_unavailable"
    assert Order.objects.get(pk=order_id).status == "confirmed"


def test_only_confirmed_orders_can_be_cancelled(alice, products):
    order_id = place(alice, (2, 50)).json()["error"]["details"]["order_id"]

    response = alice.post(f"/api/orders/{order_id}/cancel/")

    assert response.status_code == 409
    assert Order.objects.get(pk=order_id).status == "rejected"


def test_cancel_while_products_is_down_is_503_and_recovery_finishes_it(alice, products):
    order_id = place(alice, (1, 2)).json()["id"]
    products.failures["release"] = Dropped()

    response = alice.post(f"/api/orders/{order_id}/cancel/")

    assert response.status_code == 503
    assert Order.objects.get(pk=order_id).status == "cancelling"
    products.failures.clear()
    assert alice.post(f"/api/orders/{order_id}/cancel/").json()["status"] == "cancelled"
    assert products.stock(1) == 10


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_forged_tokens_are_refused(token_factory, products, kind):
    client = client_for(token_factory.forged(kind, user_id=1))

    assert client.get("/api/orders/").status_code == 401
    assert place(client, (1, 1)).status_code == 401
    assert products.calls == []


def test_an_order_placed_without_checkout_has_no_shipping_payment_or_shipment(alice, products):
    placed = place(alice, (1, 1)).json()

    for shown in (placed, alice.get(f"/api/orders/{placed['id']}/").json()):
        assert {
            name: shown[name]
            for name in ("subtotal", "shipping_cost", "shipping_address", "payment", "shipment")
        } == dict.fromkeys(("subtotal", "shipping_cost", "shipping_address", "payment", "shipment"))
        assert (shown["status"], shown["total"]) == ("confirmed", "9.50")
