"""The catalogue through the gateway, and reservations directly (contract §5)."""

import uuid

from harness import bearer, sign_in


def admin_token(system):
    return sign_in(system, "admin", system.stack.extra_env["DEMO_ADMIN_PASSWORD"])["access"]


def test_the_demo_catalogue_is_browsable(system):
    response = system.http.get(
        f"{system.gateway}/api/products/", params={"page_size": 100}, timeout=5
    )
    categories = system.http.get(f"{system.gateway}/api/products/categories/", timeout=5)

    assert response.status_code == 200
    assert response.json()["count"] >= 20
    assert len(categories.json()["results"]) >= 3


def test_search_and_filters_through_the_gateway(system):
    response = system.http.get(
        f"{system.gateway}/api/products/",
        params={"search": "tea", "in_stock": "true", "ordering": "-price", "max_price": "100"},
        timeout=5,
    )

    prices = [float(product["price"]) for product in response.json()["results"]]
    assert prices
    assert prices == sorted(prices, reverse=True)


def test_staff_create_and_retire_a_product(system):
    headers = bearer(admin_token(system))
    sku = f"E2E-{uuid.uuid4().hex[:8]}"

    created = system.http.post(
        f"{system.gateway}/api/products/",
        json={"sku": sku, "name": "E2E kettle", "price": "19.99", "stock": 3, "category": "tea"},
        headers=headers,
        timeout=5,
    )
    assert created.status_code == 201
    product_id = created.json()["id"]

    retired = system.http.delete(
        f"{system.gateway}/api/products/{product_id}/", headers=headers, timeout=5
    )
    assert retired.status_code == 204
    assert (
        system.http.get(f"{system.gateway}/api/products/{product_id}/", timeout=5).status_code
        == 404
    )


def test_a_user_cannot_create_products(system):
    from harness import register_and_sign_in

    pair = register_and_sign_in(system, f"shopper{uuid.uuid4().hex[:6]}")
    response = system.http.post(
        f"{system.gateway}/api/products/",
        json={"sku": "NOPE", "name": "x", "price": "1.00", "category": "tea"},
        headers=bearer(pair["access"]),
        timeout=5,
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def service_token(system):
    response = system.http.post(
        f"{system.url('users')}/internal/auth/token/",
        json={"client_id": "orders", "client_secret": system.stack.secret("orders-client-secret")},
        timeout=5,
    )
    return response.json()["access"]


def test_reservations_work_directly_but_are_not_routed(system):
    token = service_token(system)
    product = system.http.get(
        f"{system.gateway}/api/products/", params={"in_stock": "true"}, timeout=5
    ).json()["results"][0]
    body = {
        "reference": f"e2e-{uuid.uuid4().hex}",
        "items": [{"product_id": product["id"], "quantity": 1}],
    }

    routed = system.http.post(
        f"{system.gateway}/internal/reservations/", json=body, headers=bearer(token), timeout=5
    )
    direct = system.http.post(
        f"{system.url('products')}/internal/reservations/",
        json=body,
        headers=bearer(token),
        timeout=5,
    )
    released = system.http.post(
        f"{system.url('products')}/internal/reservations/{body['reference']}/release/",
        headers=bearer(token),
        timeout=5,
    )

    assert routed.status_code == 404
    assert direct.status_code == 201
    assert released.json()["status"] == "released"
    system.stack.manage("products", "check_stock_invariant", capture=True)
