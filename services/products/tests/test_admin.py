"""The products admin: listing with stock, retire and put back on sale (never delete), adds
and edits that go through the catalogue's services, and stock read-only once a product
exists (it moves through the inventory's services alone, each movement in the ledger)."""

from decimal import Decimal

import pytest

from catalogue.models import Product
from inventory.models import StockMovement
from inventory.selectors import stock_invariant_violations
from tests.conftest import reload

pytestmark = pytest.mark.django_db


def form(product=None, **changes):
    """The admin's product form as a browser posts it."""
    fields = {
        "sku": product.sku if product else "TEA-9",
        "name": product.name if product else "Sencha",
        "description": "",
        "price": str(product.price) if product else "3.00",
        "stock": str(product.stock) if product else "0",
        "category": product.category_id if product else None,
        "is_active": "on",
    }
    return {**fields, **changes}


def ledger(product):
    return list(StockMovement.objects.filter(product=product).values_list("kind", "quantity"))


def test_product_list_shows_stock_and_filters(admin_client, make_product):
    make_product("Sencha", stock=17)

    response = admin_client.get("/admin/catalogue/product/", {"is_active__exact": "1", "q": "Sen"})

    assert response.status_code == 200
    assert b"Sencha" in response.content
    assert b"17" in response.content


def test_bulk_retire_retires_the_active_ones_selected(admin_client, make_product):
    first, second, kept = make_product(), make_product(), make_product()
    retired = make_product(is_active=False)

    response = admin_client.post(
        "/admin/catalogue/product/",
        {"action": "retire_selected", "_selected_action": [first.pk, second.pk, retired.pk]},
        follow=True,
    )

    active = [reload(product).is_active for product in (first, second, kept, retired)]
    assert active == [False, False, True, False]
    assert b"Retired 2 product(s)." in response.content


def test_adding_a_product_in_the_admin_records_its_stock_in_the_ledger(admin_client, tea):
    response = admin_client.post("/admin/catalogue/product/add/", form(category=tea.pk, stock="7"))

    assert response.status_code == 302
    product = Product.objects.get(sku="TEA-9")
    assert response.url == "/admin/catalogue/product/"
    assert product.stock == 7
    assert ledger(product) == [("restock", 7)]
    assert stock_invariant_violations() == []


def test_a_duplicate_sku_in_the_admin_is_a_form_error(admin_client, make_product, tea):
    make_product(sku="TEA-9")

    response = admin_client.post("/admin/catalogue/product/add/", form(category=tea.pk))

    assert response.status_code == 200
    assert b"Product with this SKU already exists." in response.content
    assert Product.objects.filter(sku="TEA-9").count() == 1


def test_changing_other_fields_in_the_admin_leaves_stock_and_ledger_alone(
    admin_client, make_product
):
    product = make_product("Sencha", price="3.00", stock=5)

    response = admin_client.post(
        f"/admin/catalogue/product/{product.pk}/change/", form(product, price="4.50")
    )

    assert response.status_code == 302
    product = reload(product)
    assert (product.price, product.stock) == (Decimal("4.50"), 5)
    assert ledger(product) == [("restock", 5)]


def test_stock_is_read_only_on_a_products_page(admin_client, make_product):
    product = make_product("Sencha", price="3.00", stock=5)

    page = admin_client.get(f"/admin/catalogue/product/{product.pk}/change/")
    response = admin_client.post(
        f"/admin/catalogue/product/{product.pk}/change/", form(product, stock="9", name="Gyokuro")
    )

    assert b'name="stock"' not in page.content  # shown, not a field
    assert response.status_code == 302
    product = reload(product)
    assert (product.name, product.stock) == ("Gyokuro", 5)  # the rest of the form saved
    assert ledger(product) == [("restock", 5)]
    assert stock_invariant_violations() == []


def test_products_cannot_be_deleted_one_by_one_or_in_bulk(admin_client, make_product):
    product = make_product()

    listing = admin_client.get("/admin/catalogue/product/")
    admin_client.post(
        "/admin/catalogue/product/", {"action": "delete_selected", "_selected_action": [product.pk]}
    )

    assert b'value="delete_selected"' not in listing.content
    assert admin_client.get(f"/admin/catalogue/product/{product.pk}/delete/").status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_retired_products_are_put_back_on_sale_in_bulk(admin_client, api, make_product):
    retired, active = make_product(is_active=False), make_product()

    response = admin_client.post(
        "/admin/catalogue/product/",
        {"action": "put_back_on_sale", "_selected_action": [retired.pk, active.pk]},
        follow=True,
    )

    assert b"Put 1 product(s) back on sale." in response.content
    assert api.get(f"/api/products/{retired.pk}/").json()["is_active"] is True
    assert reload(active).is_active


def test_reservations_and_ledger_are_read_only(admin_client, make_product):
    product = make_product(stock=5)
    movement = f"/admin/inventory/stockmovement/{StockMovement.objects.get().pk}"

    assert admin_client.get("/admin/inventory/reservation/").status_code == 200
    assert admin_client.get("/admin/inventory/stockmovement/").status_code == 200
    assert admin_client.get("/admin/inventory/reservation/add/").status_code == 403
    assert admin_client.post(f"{movement}/change/", {"quantity": "9"}).status_code == 403
    assert admin_client.post(f"{movement}/delete/", {"post": "yes"}).status_code == 403
    assert ledger(product) == [("restock", 5)]
