"""What browsers and HTTP caches see through the real gateway: the browsable API, ``/``,
CORS for the storefront's origin, ETag and 304 on product reads, gzip on large answers."""

import re

import pytest

from harness import bearer, new_product, register_and_sign_in

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SHOP = "https://shop.example"  # GATEWAY_CORS_ORIGINS of the system tests' stack


def test_a_browser_gets_the_browsable_api_through_the_gateway_with_working_links(system):
    response = system.http.get(
        f"{system.gateway}/api/products/?page_size=5",
        headers={"Accept": BROWSER_ACCEPT},
        timeout=10,
    )
    api = system.http.get(f"{system.gateway}/api/products/?page_size=5", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert api.json()["results"][0]["name"] in page
    assert api.headers["Content-Type"] == "application/json"  # an API client still gets JSON
    # The page's links are paths, so they lead back through the gateway.
    assert 'href="/api/products/?page=2&amp;page_size=5"' in page
    assert system.url("products") not in page
    assets = re.findall(r'(?:src|href)="(/static/rest_framework/[^"]+)"', page)
    assert assets
    for asset in assets:
        assert system.http.get(f"{system.gateway}{asset}", timeout=10).status_code == 200, asset


def test_every_services_pages_render_for_a_signed_in_browser(system):
    token = register_and_sign_in(system, "browser-user")["access"]
    headers = {"Accept": BROWSER_ACCEPT, **bearer(token)}

    for path in (
        "/api/users/me/",
        "/api/orders/",
        "/api/payments/",
        "/api/shipping/countries/",
        "/api/products/categories/",
    ):
        response = system.http.get(f"{system.gateway}{path}", headers=headers, timeout=10)

        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert token not in response.text, path
        assert "Set-Cookie" not in response.headers, path


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("users", "/api/users/me/"),
        ("products", "/api/products/"),
        ("orders", "/api/orders/"),
        ("cart", "/api/cart/"),
        ("payments", "/api/payments/"),
        ("shipping", "/api/shipping/countries/"),
    ],
)
def test_each_services_own_port_has_the_browsable_api_and_a_root_that_leads_to_its_docs(
    system, service, path
):
    root = system.http.get(system.url(service), allow_redirects=False, timeout=10)
    page = system.http.get(f"{system.url(service)}{path}?format=api", timeout=10)
    data = system.http.get(f"{system.url(service)}{path}", timeout=10)

    assert root.status_code == 302
    assert root.headers["Location"] == "/api/docs/"
    assert system.http.get(f"{system.url(service)}/api/docs/", timeout=10).status_code == 200
    assert page.status_code < 500
    assert page.headers["Content-Type"].startswith("text/html")
    assert data.status_code == page.status_code
    assert data.headers["Content-Type"] == "application/json"


def test_the_gateways_root_leads_to_the_storefront(system):
    root = system.http.get(f"{system.gateway}/", allow_redirects=False, timeout=10)

    assert root.status_code == 302
    assert root.headers["Location"] == system.url("storefront")


def test_the_storefronts_origin_may_call_the_api_from_a_browser(system):
    preflight = system.http.options(
        f"{system.gateway}/api/cart/",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-cart-id",
        },
        timeout=10,
    )
    answer = system.http.get(
        f"{system.gateway}/api/products/", headers={"Origin": SHOP}, timeout=10
    )
    elsewhere = system.http.get(
        f"{system.gateway}/api/products/", headers={"Origin": "https://evil.example"}, timeout=10
    )

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Cart-ID" in preflight.headers["Access-Control-Allow-Headers"]
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "X-Request-ID" in answer.headers["Access-Control-Expose-Headers"]
    assert set(answer.headers["Vary"].replace(" ", "").split(",")) >= {"Accept", "Origin"}
    assert elsewhere.status_code == 200
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_a_product_read_again_with_its_etag_is_a_bodiless_304(system):
    # A product of this test's own, so no other test's orders change it between the reads.
    product = new_product(system, stock=5)
    sku = system.http.get(f"{system.gateway}/api/products/{product}/", timeout=10).json()["sku"]
    list_url = f"{system.gateway}/api/products/?search={sku}"
    detail_url = f"{system.gateway}/api/products/{product}/"
    products = system.http.get(list_url, timeout=10)
    detail = system.http.get(detail_url, timeout=10)
    assert [found["id"] for found in products.json()["results"]] == [product]

    for url, first in ((list_url, products), (detail_url, detail)):
        again = system.http.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)

        assert first.status_code == 200
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["ETag"] == first.headers["ETag"]


def test_a_large_answer_comes_gzipped_and_a_small_one_as_it_is(system):
    large = system.http.get(
        f"{system.gateway}/api/products/?page_size=100",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
        timeout=10,
    )
    wire = large.raw.read(decode_content=False)
    small = system.http.get(
        f"{system.gateway}/api/products/categories/",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )

    assert large.headers["Content-Encoding"] == "gzip"
    assert wire[:2] == b"\x1f\x8b"
    assert "Accept-Encoding" in large.headers["Vary"]
    assert len(small.content) < 1024
    assert "Content-Encoding" not in small.headers
