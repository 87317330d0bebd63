"""The products admin: listing with stock, bulk retire, and stock edits that reach the ledger."""

import pytest

from catalogue.models import Product
from inventory.models import StockMovement
from tests.conftest import reload

pytestmark = pytest.mark.django_db


def test_product_list_shows_stock_and_filters(admin_client, make_product):
    make_product("Sencha", stock=17)

    response = admin_client.get("/admin/catalogue/product/", {"is_active__exact": "1", "q": "Sen"})

    assert response.status_code == 200
    assert b"Sencha" in response.content
    assert b"17" in response.content


def test_bulk_retire(admin_client, make_product):
    first, second, kept = make_product(), make_product(), make_product()

    admin_client.post(
        "/admin/catalogue/product/",
        {"action": "retire_selected", "_selected_action": [first.pk, second.pk]},
    )

    assert [reload(p).is_active for p in (first, second, kept)] == [False, False, True]


def test_changing_stock_in_the_admin_is_recorded_in_the_ledger(admin_client, make_product, tea):
    product = make_product("Sencha", price="3.00", stock=5)

    response = admin_client.post(
        f"/admin/catalogue/product/{product.pk}/change/",
        {
            "sku": product.sku,
            "name": "Sencha",
            "description": "",
            "price": "3.00",
            "stock": "9",
            "category": tea.pk,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert reload(product).stock == 9
    assert list(StockMovement.objects.filter(product=product).values_list("kind", "quantity")) == [
        ("restock", 5),
        ("restock", 4),
    ]


def test_reservations_and_ledger_are_read_only(admin_client):
    assert admin_client.get("/admin/inventory/reservation/").status_code == 200
    assert admin_client.get("/admin/inventory/stockmovement/").status_code == 200
    assert admin_client.get("/admin/inventory/reservation/add/").status_code == 403
    assert not Product.objects.exists()
