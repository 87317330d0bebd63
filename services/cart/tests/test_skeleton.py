"""Health, schema, docs, admin and the error envelope, as every service serves them; and
the cart's operations in its OpenAPI schema."""

import pytest

from souk_common.pytest_plugin import ServiceSkeletonChecks


class TestSkeleton(ServiceSkeletonChecks):
    pass


@pytest.mark.django_db
def test_the_schema_describes_every_operation_and_the_cart_header(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]

    assert set(paths["/api/cart/"]) == {"get", "post", "delete"}
    assert set(paths["/api/cart/items/{product_id}/"]) == {"put", "delete"}
    assert set(paths["/api/cart/merge/"]) == {"post"}
    assert set(paths["/internal/carts/users/{user_id}/"]) == {"get", "delete"}
    assert set(paths["/internal/carts/users/{user_id}/merge/"]) == {"post"}
    product_id = paths["/api/cart/items/{product_id}/"]["put"]["parameters"]
    assert {"name": "product_id", "type": "integer"} in [
        {"name": p["name"], "type": p["schema"]["type"]} for p in product_id
    ]
    headers = [p["name"] for p in paths["/api/cart/"]["get"]["parameters"] if p["in"] == "header"]
    assert headers == ["X-Cart-ID"]
    line = schema["components"]["schemas"]["CartLineOutput"]["properties"]
    assert set(line) == {"product_id", "name", "unit_price", "quantity", "line_total", "available"}
