"""An order refused for short stock, through the gateway against the real products
service: listed with its status, its lines named and priced from products' catalogue,
and their total (docs/architecture.md, "Refused and failed orders are listed")."""

import uuid

from harness import bearer, new_product, place_order, register_and_sign_in


def test_an_order_refused_for_short_stock_is_listed_rejected_with_names_and_total(system):
    product = new_product(system, stock=1, price="3.20")
    name = system.http.get(f"{system.gateway}/api/products/{product}/", timeout=10).json()["name"]
    token = register_and_sign_in(system, f"refused{uuid.uuid4().hex[:6]}")["access"]

    refused = place_order(system, token, [(product, 2)])
    listed = system.http.get(f"{system.gateway}/api/orders/", headers=bearer(token), timeout=10)

    assert refused.status_code == 409, refused.text
    [order] = listed.json()["results"]
    assert order["id"] == refused.json()["error"]["details"]["order_id"]
    assert order["status"] == "rejected"
    assert order["items"] == [
        {
            "product_id": product,
            "name": name,
            "unit_price": "3.20",
            "quantity": 2,
            "line_total": "6.40",
        }
    ]
    assert order["total"] == "6.40"
