"""The orders admin: filters by status and user, customers by username, lines inline; every
page read-only, nothing deleted, and orders cancelled (and dead letters replayed) through
the same services as the API and the dead_letters command."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import clients
from orders.models import IdempotencyKey, Order
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.testing import Dropped
from tests.conftest import checkout, payment_succeeded, place

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"


@pytest.fixture
def order():
    order = Order.objects.create(user_id=7, status="confirmed", total="19.00")
    order.lines.create(product_id=1, quantity=2, name="Sencha", unit_price="9.50")
    return order


def test_list_filters_by_status_and_user(admin_client, order):
    other = Order.objects.create(user_id=8, status="failed")

    by_status = admin_client.get("/admin/orders/order/", {"status__exact": "confirmed"})
    by_user = admin_client.get("/admin/orders/order/", {"q": "8"})

    assert by_status.status_code == 200
    assert str(order.pk).encode() in by_status.content
    assert str(other.pk).encode() not in by_status.content
    assert str(other.pk).encode() in by_user.content
    assert str(order.pk).encode() not in by_user.content


def test_change_page_shows_lines_and_keeps_money_and_status_read_only(admin_client, order):
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")

    assert page.status_code == 200
    assert b"Sencha" in page.content
    assert b'name="_save"' not in page.content  # no Save buttons: nothing to save
    refused = admin_client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {
            "status": "cancelled",
            "total": "0.01",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
        },
    )
    assert refused.status_code == 403
    order.refresh_from_db()
    assert (order.status, str(order.total)) == ("confirmed", "19.00")


def test_orders_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get("/admin/orders/order/add/").status_code == 403


def test_a_checkouts_shipping_payment_and_shipment_are_shown_read_only(admin_client):
    checkout = Order.objects.create(
        user_id=7,
        kind="checkout",
        status="shipped",
        subtotal="19.00",
        shipping_cost="5.90",
        total="24.90",
        shipping_address={
            "name": "Alice Martin",
            "line1": "12 rue Oberkampf",
            "line2": "",
            "city": "Paris",
            "postal_code": "75011",
            "country": "FR",
        },
        payment_status="succeeded",
        payment_transaction_id="txn_0001",
        shipment_carrier="La Poste",
        shipment_tracking_number="LP123456789FR",
    )

    page = admin_client.get(f"/admin/orders/order/{checkout.pk}/change/")

    assert page.status_code == 200
    for shown in (b"rue Oberkampf", b"txn_0001", b"La Poste", b"LP123456789FR", b"5.90"):
        assert shown in page.content
    admin_client.post(
        f"/admin/orders/order/{checkout.pk}/change/",
        {
            "status": "cancelled",
            "payment_status": "refunded",
            "shipment_tracking_number": "forged",
            "shipping_cost": "0.00",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
        },
    )
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment_status) == ("shipped", "succeeded")
    assert (checkout.shipment_tracking_number, str(checkout.shipping_cost)) == (
        "LP123456789FR",
        "5.90",
    )


def test_list_filters_by_kind(admin_client, order):
    checkout = Order.objects.create(user_id=7, kind="checkout", status="awaiting_payment")

    page = admin_client.get("/admin/orders/order/", {"kind__exact": "checkout"})

    assert str(checkout.pk).encode() in page.content
    assert str(order.pk).encode() not in page.content


def test_orders_cannot_be_deleted_one_by_one_or_in_bulk(admin_client, order):
    page = admin_client.get(ORDERS)

    assert b'value="delete_selected"' not in page.content
    assert b'value="cancel_selected"' in page.content  # the one action offered
    assert admin_client.get(f"{ORDERS}{order.pk}/delete/").status_code == 403
    assert admin_client.post(f"{ORDERS}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(ORDERS, {"action": "delete_selected", "_selected_action": [order.pk]})
    assert Order.objects.filter(pk=order.pk).exists()


def test_idempotency_keys_cannot_be_changed_or_deleted(admin_client):
    key = IdempotencyKey.objects.create(
        user_id=7, key="k-1", request_fingerprint="f", expires_at=timezone.now()
    )
    page = f"/admin/orders/idempotencykey/{key.pk}"

    assert admin_client.post(f"{page}/change/", {"state": "done"}).status_code == 403
    assert admin_client.post(f"{page}/delete/", {"post": "yes"}).status_code == 403
    assert IdempotencyKey.objects.get(pk=key.pk).state == "in_progress"


def test_the_customer_is_shown_and_found_by_username(admin_client, alice, products, order):
    placed = place(alice, (1, 1)).json()  # alice's token names her

    listing = admin_client.get(ORDERS)
    found = admin_client.get(ORDERS, {"q": "ALICE"})

    assert Order.objects.get(pk=placed["id"]).username == "alice"
    assert b"alice" in listing.content
    assert b"user #7" in listing.content  # kept from before usernames were: its user id
    assert placed["id"].encode() in found.content
    assert str(order.pk).encode() not in found.content
    page = admin_client.get(f"{ORDERS}{placed['id']}/change/")
    assert b"alice" in page.content


def test_a_checkout_keeps_its_customers_username(alice, shop, cart):
    cart.fill(1, (1, 1))

    placed = checkout(alice).json()

    assert Order.objects.get(pk=placed["id"]).username == "alice"


def cancel_in_admin(admin_client, *orders):
    return admin_client.post(
        ORDERS,
        {"action": "cancel_selected", "_selected_action": [o["id"] for o in orders]},
        follow=True,
    )


def test_cancelling_in_the_admin_cancels_like_the_api(admin_client, alice, products):
    in_admin = place(alice, (1, 2)).json()
    by_api = place(alice, (1, 3)).json()

    response = cancel_in_admin(admin_client, in_admin)
    alice.post(f"/api/orders/{by_api['id']}/cancel/")

    assert b"Cancelled 1 order(s)." in response.content
    assert alice.get(f"/api/orders/{in_admin['id']}/").json()["status"] == "cancelled"
    assert products.stock(1) == 10  # both orders' stock returned
    events = {
        event.envelope["data"]["order_id"]: event.envelope["data"]
        for event in OutboxEvent.objects.filter(type="order.cancelled")
    }
    assert set(events) == {in_admin["id"], by_api["id"]}
    shape = {key for key in events[by_api["id"]] if key not in ("order_id",)}
    assert {key for key in events[in_admin["id"]] if key != "order_id"} == shape


def test_the_admin_says_which_orders_it_could_not_cancel_and_why(admin_client, alice, products):
    cancellable = place(alice, (1, 1)).json()
    rejected_id = place(alice, (2, 50)).json()["error"]["details"]["order_id"]

    response = cancel_in_admin(admin_client, cancellable, {"id": rejected_id})

    text = response.content.decode()
    assert "Cancelled 1 order(s)." in text
    assert f"Order {rejected_id} was not cancelled: This order is rejected" in text
    assert Order.objects.get(pk=rejected_id).status == "rejected"
    assert Order.objects.get(pk=cancellable["id"]).status == "cancelled"


def test_an_admin_cancel_while_products_is_down_leaves_it_for_recovery(
    admin_client, alice, products
):
    placed = place(alice, (1, 1)).json()
    products.failures["release"] = Dropped()

    response = cancel_in_admin(admin_client, placed)

    assert f"Order {placed['id']} was not cancelled" in response.content.decode()
    assert Order.objects.get(pk=placed["id"]).status == "cancelling"  # reconcile_orders ends it
    assert not OutboxEvent.objects.filter(type="order.cancelled").exists()


def test_a_dead_letter_replayed_in_the_admin_is_handled(admin_client, alice, shop, cart, inbox):
    cart.fill(1, (1, 1))
    placed = checkout(alice).json()
    shop[0].failures["commit"] = Dropped()  # products down for every attempt
    event = payment_succeeded(placed)
    inbox.receive(event)
    while InboxEvent.objects.get(event_id=event.id).state != "dead":
        inbox.retry_due(now=timezone.now() + timedelta(days=1))
    shop[0].failures.clear()
    clients.reset()  # products is back: its breaker closed again

    response = admin_client.post(
        "/admin/souk_events/inboxevent/",
        {"action": "replay", "_selected_action": [str(event.id)]},
        follow=True,
    )
    inbox.retry_due()

    assert b"1 dead letter(s) replayed" in response.content
    assert InboxEvent.objects.get(event_id=event.id).state == "handled"
    assert alice.get(f"/api/orders/{placed['id']}/").json()["status"] == "paid"
