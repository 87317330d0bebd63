"""/metrics on the products service: stock reservations by status, and the units held."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inventory.services import RequestedItem, reservation_commit, reservation_reserve

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, str], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, sample.labels.get("status", "")): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name.startswith("souk_stock_")
    }


def test_reservations_and_the_units_they_hold_are_read_at_each_scrape(client, make_product):
    tea = make_product("Sencha", price="9.50", stock=10)
    reservation_reserve(reference="order-1", items=[RequestedItem(tea.pk, 3)])
    reservation_reserve(reference="order-2", items=[RequestedItem(tea.pk, 2)])

    held = scrape(client)
    reservation_commit(reference="order-1")
    after = scrape(client)

    assert held[("souk_stock_reservations", "reserved")] == 2
    assert held[("souk_stock_held_units", "")] == 5
    assert after[("souk_stock_reservations", "committed")] == 1
    assert after[("souk_stock_held_units", "")] == 2
