"""Staff create, change and retire products (staff as the users service says now); every
invalid input is a 400 with field details."""

from decimal import Decimal

import pytest

from catalogue.models import Product
from inventory.models import StockMovement
from souk_common.testing import FORGED_TOKEN_KINDS, Dropped, Hung
from tests.conftest import STAFF_ID, reload

pytestmark = pytest.mark.django_db

VALID = {
    "sku": "TEA-1",
    "name": "Sencha",
    "description": "Green",
    "price": "9.50",
    "stock": 12,
    "category": "tea",
}


def test_staff_create_a_product_and_its_stock_enters_the_ledger(staff_api, tea):
    response = staff_api.post("/api/products/", VALID, format="json")

    assert response.status_code == 201
    assert response.json()["price"] == "9.50"
    product = Product.objects.get(sku="TEA-1")
    assert (product.price, product.stock, product.category) == (Decimal("9.50"), 12, tea)
    assert list(StockMovement.objects.values_list("kind", "quantity")) == [("restock", 12)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "0.00"),
        ("price", "-1"),
        ("price", "abc"),
        ("price", "1.005"),
        ("price", None),
        ("stock", -1),
        ("stock", "many"),
        ("category", "no-such-category"),
        ("category", "t\x00ea"),  # PostgreSQL cannot even look up text holding NUL
        ("category", ["tea"]),
        ("sku", "x" * 65),
        ("sku", "bad sku!"),
        ("name", "n" * 201),
        ("name", ""),
        ("description", "d" * 5001),
    ],
)
def test_invalid_input_is_a_validation_error_naming_the_field(staff_api, tea, field, value):
    response = staff_api.post("/api/products/", {**VALID, field: value}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert not Product.objects.exists()


DUPLICATE_SKU = {
    "code": "validation_error",
    "message": "The request is invalid.",
    "details": {"sku": ["A product with this SKU already exists."]},
}


def test_duplicate_sku_is_refused(staff_api, make_product):
    make_product(sku="TEA-1")

    response = staff_api.post("/api/products/", VALID, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert {key: error[key] for key in DUPLICATE_SKU} == DUPLICATE_SKU
    assert Product.objects.filter(sku="TEA-1").count() == 1


def test_changing_the_sku_to_another_products_is_refused(staff_api, make_product):
    make_product(sku="TEA-1")
    product = make_product(sku="TEA-2")

    response = staff_api.patch(f"/api/products/{product.pk}/", {"sku": "TEA-1"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert {key: error[key] for key in DUPLICATE_SKU} == DUPLICATE_SKU
    assert reload(product).sku == "TEA-2"


def test_a_user_cannot_write_and_anonymous_is_asked_to_sign_in(api, user_api, make_product, tea):
    product = make_product()

    assert user_api.post("/api/products/", VALID, format="json").status_code == 403
    assert (
        user_api.patch(f"/api/products/{product.pk}/", {"price": "1.00"}, format="json").status_code
        == 403
    )
    assert user_api.delete(f"/api/products/{product.pk}/").status_code == 403
    assert api.post("/api/products/", VALID, format="json").status_code == 401
    assert reload(product).is_active


def test_patch_changes_only_what_is_sent(staff_api, make_product):
    product = make_product("Sencha", price="5.00", stock=7)

    response = staff_api.patch(f"/api/products/{product.pk}/", {"price": "6.25"}, format="json")

    assert response.status_code == 200
    product = reload(product)
    assert (product.price, product.stock, product.name) == (Decimal("6.25"), 7, "Sencha")


def test_put_without_stock_keeps_the_stock(staff_api, make_product):
    product = make_product(stock=7)

    body = {key: value for key, value in VALID.items() if key != "stock"} | {"sku": product.sku}
    response = staff_api.put(f"/api/products/{product.pk}/", body, format="json")

    assert response.status_code == 200
    assert reload(product).stock == 7


def test_restock_and_write_off_are_recorded(staff_api, make_product):
    product = make_product(stock=10)

    staff_api.patch(f"/api/products/{product.pk}/", {"stock": 25}, format="json")
    staff_api.patch(f"/api/products/{product.pk}/", {"stock": 20}, format="json")

    assert reload(product).stock == 20
    assert list(StockMovement.objects.filter(product=product).values_list("kind", "quantity")) == [
        ("restock", 10),
        ("restock", 15),
        ("write_off", 5),
    ]


def test_delete_retires_and_keeps_the_row(staff_api, api, make_product):
    product = make_product()

    response = staff_api.delete(f"/api/products/{product.pk}/")

    assert response.status_code == 204
    assert reload(product).is_active is False
    assert api.get(f"/api/products/{product.pk}/").status_code == 404


def test_staff_can_bring_a_product_back(staff_api, make_product):
    product = make_product(is_active=False)

    staff_api.patch(f"/api/products/{product.pk}/", {"is_active": True}, format="json")

    assert reload(product).is_active


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_forged_staff_tokens_are_refused(api, token_factory, tea, kind):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_factory.forged(kind)}")

    response = api.post("/api/products/", VALID, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Product.objects.exists()


def test_a_demoted_staff_member_is_refused_on_the_next_request_after_the_cache_lifetime(
    staff_api, users, account_clock, tea
):
    assert staff_api.post("/api/products/", VALID, format="json").status_code == 201

    users.staff.clear()  # demoted in the users service; the token still says staff
    account_clock.now += 5  # SOUK["ACCOUNT_CACHE_SECONDS"]
    response = staff_api.post("/api/products/", {**VALID, "sku": "TEA-2"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert list(Product.objects.values_list("sku", flat=True)) == ["TEA-1"]


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
def test_a_staff_token_whose_account_is_gone_cannot_write(staff_api, users, tea, change):
    (users.inactive if change == "deactivated" else users.missing).add(STAFF_ID)

    response = staff_api.post("/api/products/", VALID, format="json")

    assert response.status_code == 403
    assert not Product.objects.exists()


def test_a_demoted_staff_member_no_longer_sees_retired_products(staff_api, users, make_product):
    retired = make_product("Retired", is_active=False)
    users.staff.clear()

    assert staff_api.get(f"/api/products/{retired.pk}/").status_code == 404
    assert staff_api.get("/api/products/").json()["count"] == 0


@pytest.mark.parametrize("failure", [Dropped(), Hung(seconds=2.5)], ids=["down", "hung"])
def test_when_users_cannot_be_asked_staff_writes_fail_closed(
    staff_api, users, make_product, failure
):
    product = make_product("Sencha", price="9.50")
    users.failure = failure

    created = staff_api.post("/api/products/", VALID, format="json")
    retired = staff_api.delete(f"/api/products/{product.pk}/")

    assert (created.status_code, retired.status_code) == (503, 503)
    assert created.json()["error"]["code"] == "upstream_unavailable"
    assert list(Product.objects.values_list("sku", "is_active")) == [(product.sku, True)]


@pytest.mark.parametrize(
    ("method", "path"), [("put", "/api/products/"), ("post", "/api/products/{}/")]
)
def test_a_method_the_url_lacks_is_a_write_refused_to_non_staff_and_405_for_staff(
    api, user_api, staff_api, make_product, method, path
):
    url = path.format(make_product().pk)

    assert getattr(api, method)(url, VALID, format="json").status_code == 401
    assert getattr(user_api, method)(url, VALID, format="json").status_code == 403
    response = getattr(staff_api, method)(url, VALID, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert Product.objects.count() == 1
