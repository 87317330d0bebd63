"""/metrics on the orders service: orders by status, as the database has them now."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orders.models import Order


def orders_by_status(client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "souk_orders"
    }


@pytest.mark.django_db
def test_orders_are_counted_by_status_at_each_scrape(client):
    Order.objects.create(user_id=7, status="confirmed", total="19.00")
    Order.objects.create(user_id=7, status="confirmed", total="9.50")
    Order.objects.create(user_id=8, kind="checkout", status="awaiting_payment")

    before = orders_by_status(client)
    Order.objects.filter(status="awaiting_payment").update(status="paid")
    after = orders_by_status(client)

    assert (before["confirmed"], before["awaiting_payment"], before["paid"]) == (2, 1, 0)
    assert (after["awaiting_payment"], after["paid"], after["shipped"]) == (0, 1, 0)
