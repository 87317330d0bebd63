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
