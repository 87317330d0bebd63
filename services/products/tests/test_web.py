"""Product reads for browsers and for clients that poll: the browsable API, ETag and 304."""

import re

import pytest

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/api/products/", "/api/products/{id}/"])
def test_a_read_carries_an_etag_and_the_same_etag_is_a_bodiless_304(api, make_product, path):
    product = make_product("Sencha")
    url = path.format(id=product.pk)
    first = api.get(url)

    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("path", ["/api/products/", "/api/products/{id}/"])
def test_a_stock_change_makes_a_new_etag(api, service_api, make_product, path):
    product = make_product("Sencha", stock=10)
    url = path.format(id=product.pk)
    before = api.get(url)
    reserved = service_api.post(
        "/internal/reservations/",
        {"reference": "order-1", "items": [{"product_id": product.pk, "quantity": 3}]},
        format="json",
    )

    after = api.get(url, HTTP_IF_NONE_MATCH=before["ETag"])

    assert reserved.status_code == 201
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    stock = (
        after.json()["stock"] if "stock" in after.json() else after.json()["results"][0]["stock"]
    )
    assert stock == 7


def test_another_page_or_filter_is_another_etag(api, make_product):
    make_product("Sencha")
    make_product("Assam")

    first = api.get("/api/products/?page_size=1")
    second = api.get("/api/products/?page_size=1&page=2", HTTP_IF_NONE_MATCH=first["ETag"])

    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]


def test_the_page_and_the_json_have_their_own_etags(api, make_product):
    product = make_product("Sencha")
    data = api.get(f"/api/products/{product.pk}/")

    page = api.get(
        f"/api/products/{product.pk}/", HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_IF_NONE_MATCH=data["ETag"]
    )

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert page["ETag"] != data["ETag"]


def test_a_gzipped_list_keeps_a_weak_etag_that_still_matches(api, make_product):
    for _ in range(30):
        make_product(description="Loose leaf, picked in spring. " * 4)
    zipped = api.get("/api/products/?page_size=30", HTTP_ACCEPT_ENCODING="gzip")

    again = api.get(
        "/api/products/?page_size=30",
        HTTP_ACCEPT_ENCODING="gzip",
        HTTP_IF_NONE_MATCH=zipped["ETag"],
    )

    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["ETag"].startswith('W/"')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == zipped["ETag"]


def test_a_write_carries_no_etag(staff_api, make_product):
    product = make_product("Sencha")

    changed = staff_api.patch(f"/api/products/{product.pk}/", {"price": "3.00"}, format="json")

    assert changed.status_code == 200
    assert "ETag" not in changed


@pytest.mark.parametrize(
    "path", ["/api/products/", "/api/products/{id}/", "/api/products/categories/"]
)
def test_format_api_is_the_browsable_page_with_its_assets(api, make_product, path):
    product = make_product("Sencha")

    response = api.get(path.format(id=product.pk), {"format": "api"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Sencha" in page or "categories" in page.lower()
    assets = re.findall(r'(?:src|href)="(/static/rest_framework/[^"]+)"', page)
    assert assets
    for asset in assets:
        assert api.get(asset).status_code == 200, asset


def test_a_retired_product_is_a_page_for_staff_and_a_404_page_for_the_public(
    api, staff_api, make_product
):
    product = make_product("Sencha", is_active=False)

    public = api.get(f"/api/products/{product.pk}/", HTTP_ACCEPT=BROWSER_ACCEPT)
    staff = staff_api.get(f"/api/products/{product.pk}/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert staff.status_code == 200
    assert "Sencha" in staff.content.decode()
    assert public.status_code == 404
    assert "not_found" in public.content.decode()


def test_the_list_page_offers_its_filters(api, make_product):
    make_product("Sencha")

    page = api.get("/api/products/", HTTP_ACCEPT=BROWSER_ACCEPT).content.decode()

    assert 'name="min_price"' in page
    assert 'name="search"' in page
