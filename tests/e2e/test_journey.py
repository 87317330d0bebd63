"""A shopper's whole journey through the gateway, as a client would drive it."""

import uuid

from harness import PASSWORD, admin_headers, bearer, product_stock


def test_register_browse_order_list_cancel_refresh_and_log_out(system):
    http, gateway = system.http, system.gateway
    username = f"shopper{uuid.uuid4().hex[:8]}"

    registered = http.post(
        f"{gateway}/api/users/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert registered.status_code == 201
    pair = http.post(
        f"{gateway}/api/auth/token/", json={"username": username, "password": PASSWORD}, timeout=10
    ).json()
    me = http.get(f"{gateway}/api/users/me/", headers=bearer(pair["access"]), timeout=10).json()
    assert me["username"] == username

    # Browse and search the catalogue; pick something in stock.
    categories = http.get(f"{gateway}/api/products/categories/", timeout=10).json()["results"]
    assert categories
    found = http.get(
        f"{gateway}/api/products/",
        params={"search": "tea", "category": "tea", "in_stock": "true", "ordering": "price"},
        timeout=10,
    ).json()["results"]
    product = found[0]
    detail = http.get(f"{gateway}/api/products/{product['id']}/", timeout=10).json()
    assert detail["name"] == product["name"]
    stock_before = product_stock(system, product["id"])

    # Order, see it in the list, cancel it, and the stock is back.
    placed = http.post(
        f"{gateway}/api/orders/",
        json={"items": [{"product_id": product["id"], "quantity": 2}]},
        headers={**bearer(pair["access"]), "Idempotency-Key": f"journey-{username}"},
        timeout=30,
    )
    assert placed.status_code == 201
    order = placed.json()
    assert order["items"][0]["unit_price"] == detail["price"]
    assert product_stock(system, product["id"]) == stock_before - 2
    listed = http.get(f"{gateway}/api/orders/", headers=bearer(pair["access"]), timeout=10).json()
    assert [o["id"] for o in listed["results"]] == [order["id"]]
    cancelled = http.post(
        f"{gateway}/api/orders/{order['id']}/cancel/", headers=bearer(pair["access"]), timeout=30
    )
    assert cancelled.json()["status"] == "cancelled"
    assert product_stock(system, product["id"]) == stock_before

    # Refresh the tokens, then log out: the refresh token is dead.
    refreshed = http.post(
        f"{gateway}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=10
    ).json()
    assert http.get(f"{gateway}/api/users/me/", headers=bearer(refreshed["access"]), timeout=10).ok
    assert (
        http.post(
            f"{gateway}/api/auth/logout/", json={"refresh": refreshed["refresh"]}, timeout=10
        ).status_code
        == 204
    )
    assert (
        http.post(
            f"{gateway}/api/auth/token/refresh/", json={"refresh": refreshed["refresh"]}, timeout=10
        ).status_code
        == 401
    )


def test_staff_manage_the_catalogue_and_past_orders_keep_their_lines(system):
    http, gateway = system.http, system.gateway
    staff = admin_headers(system)
    sku = f"J-{uuid.uuid4().hex[:8]}"
    created = http.post(
        f"{gateway}/api/products/",
        json={"sku": sku, "name": "Journey tray", "price": "12.00", "stock": 5, "category": "tea"},
        headers=staff,
        timeout=10,
    ).json()
    buyer = http.post(
        f"{gateway}/api/users/",
        json={"username": f"b{sku}", "email": f"b{sku}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert buyer.status_code == 201
    token = http.post(
        f"{gateway}/api/auth/token/", json={"username": f"b{sku}", "password": PASSWORD}, timeout=10
    ).json()["access"]
    order = http.post(
        f"{gateway}/api/orders/",
        json={"items": [{"product_id": created["id"], "quantity": 1}]},
        headers=bearer(token),
        timeout=30,
    ).json()

    renamed = http.patch(
        f"{gateway}/api/products/{created['id']}/",
        json={"name": "Renamed tray", "price": "15.00"},
        headers=staff,
        timeout=10,
    )
    retired = http.delete(f"{gateway}/api/products/{created['id']}/", headers=staff, timeout=10)

    assert renamed.json()["name"] == "Renamed tray"
    assert retired.status_code == 204
    later = http.get(f"{gateway}/api/orders/{order['id']}/", headers=bearer(token), timeout=10)
    assert later.json()["items"][0]["name"] == "Journey tray"
    assert later.json()["items"][0]["unit_price"] == "12.00"
    refused = http.post(
        f"{gateway}/api/orders/",
        json={"items": [{"product_id": created["id"], "quantity": 1}]},
        headers=bearer(token),
        timeout=30,
    )
    assert refused.status_code == 400
