"""What browsers get at the public listener: CORS for the allowed origins, ``/``, and
conditional GETs passed through (real gateway processes in front of fake upstreams)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from proxy.app import _vary_on_origin
from proxy.cors import CorsPolicy

SHOP = "https://shop.example"
ELSEWHERE = "https://evil.example"


@pytest.fixture(scope="module")
def cors_gateway(start_gateway):
    """A gateway that lets two origins' pages call the API, in front of a storefront."""
    return start_gateway(
        workers=1,
        GATEWAY_CORS_ORIGINS=f"{SHOP}, http://localhost:3000",
        GATEWAY_CORS_MAX_AGE="900",
        STOREFRONT_URL="http://localhost:8080/",
    )


def preflight(http, gateway, path, origin, method="POST"):
    return http.options(
        f"{gateway.url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
        timeout=10,
    )


def test_a_preflight_from_an_allowed_origin_is_answered_at_the_gateway(
    cors_gateway, upstreams, http
):
    upstreams["orders"].forget()

    # /api/orders/ requires a token at the edge; a preflight never carries one.
    response = preflight(http, cors_gateway, "/api/orders/", SHOP)

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS, POST"
    allowed = {
        name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "idempotency-key", "x-cart-id"} <= allowed
    assert response.headers["Access-Control-Max-Age"] == "900"
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["X-Request-ID"]
    assert upstreams["orders"].received() == []


def test_a_preflight_from_another_origin_gets_no_cors_header_and_reaches_no_upstream(
    cors_gateway, products, http
):
    response = preflight(http, cors_gateway, "/api/products/", ELSEWHERE)

    assert response.status_code == 204
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    assert "Origin" in response.headers["Vary"]
    assert products.received() == []


def test_an_answer_to_an_allowed_origin_names_it_and_what_it_may_read(cors_gateway, products, http):
    response = http.get(
        f"{cors_gateway.url}/api/products/", headers={"Origin": "http://localhost:3000"}, timeout=10
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    exposed = {
        name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"X-Request-ID", "Retry-After", "Location", "X-Cart-ID", "ETag"} <= exposed
    assert response.headers["Vary"] == "Origin"
    assert products.received()[-1]["path"] == "/api/products/"


def test_an_answer_to_another_origin_has_no_cors_header(cors_gateway, products, http):
    response = http.get(
        f"{cors_gateway.url}/api/products/", headers={"Origin": ELSEWHERE}, timeout=10
    )

    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    assert response.headers["Vary"] == "Origin"


def test_the_gateways_refusals_name_the_allowed_origin_too(cors_gateway, http):
    """A page must be able to read why it was refused (here: no token on /api/orders/)."""
    response = http.get(f"{cors_gateway.url}/api/orders/", headers={"Origin": SHOP}, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["Access-Control-Allow-Origin"] == SHOP


def test_an_upstreams_own_cors_headers_are_dropped(cors_gateway, gateway, products, http):
    for edge, origin in ((cors_gateway, ELSEWHERE), (gateway, SHOP)):
        response = http.get(f"{edge.url}/api/products/cors", headers={"Origin": origin}, timeout=10)

        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_with_no_origins_configured_there_is_no_cors_at_all(gateway, products, http):
    """The default: no header added, and a preflight is an OPTIONS like any other."""
    answer = http.get(f"{gateway.url}/api/products/", headers={"Origin": SHOP}, timeout=10)
    options = preflight(http, gateway, "/api/products/", SHOP)

    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert "Vary" not in answer.headers
    assert options.status_code == 200
    assert options.json()["method"] == "OPTIONS"  # the upstream answered it
    assert not [name for name in options.headers if name.lower().startswith("access-control-")]


def test_an_upstreams_vary_gets_origin_added():
    headers = [(b"content-type", b"application/json"), (b"Vary", b"Accept, Accept-Encoding")]
    _vary_on_origin(headers)
    already = [(b"vary", b"origin")]
    _vary_on_origin(already)

    assert headers[1] == (b"Vary", b"Accept, Accept-Encoding, Origin")
    assert already == [(b"vary", b"origin")]


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://shop.example/",
        "shop.example",
        "https://*.example",
        "ftp://shop.example",
        "https://user@shop.example",
        "https://shop.example/path",
    ],
)
def test_an_origin_that_is_not_exactly_an_origin_is_refused_at_start(origin):
    with pytest.raises(ImproperlyConfigured, match="GATEWAY_CORS_ORIGINS"):
        CorsPolicy([origin], max_age=600)


def test_a_validator_and_a_304_pass_through_untouched(gateway, products, http):
    first = http.get(f"{gateway.url}/api/products/etag", timeout=10)

    again = http.get(
        f"{gateway.url}/api/products/etag",
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=10,
    )

    assert first.status_code == 200
    assert first.headers["ETag"] == '"v1"'
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == '"v1"'
    assert "Content-Length" not in again.headers
    assert "Transfer-Encoding" not in again.headers
    assert dict(products.received()[-1]["headers"])["if-none-match"] == '"v1"'


def test_the_site_root_leads_to_the_docs_or_the_storefront(gateway, cors_gateway, http):
    docs = http.get(f"{gateway.url}/", allow_redirects=False, timeout=10)
    shop = http.get(f"{cors_gateway.url}/", allow_redirects=False, timeout=10)

    assert docs.status_code == 302
    assert docs.headers["Location"] == "/api/docs/"
    assert http.get(f"{gateway.url}{docs.headers['Location']}", timeout=10).status_code == 200
    assert shop.status_code == 302
    assert shop.headers["Location"] == "http://localhost:8080/"
