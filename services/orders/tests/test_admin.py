"""The orders admin: filters by status and user, lines inline, money and status read-only."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


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
    admin_client.post(
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
