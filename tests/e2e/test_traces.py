"""One trace id from the client (or the gateway) through every service and event of a
request, in every log line: an order placed through the gateway is followed in the
orders, products and notifications logs by its trace id alone."""

from __future__ import annotations

import secrets

from harness import new_product, register_and_sign_in, wait_for


def test_an_orders_trace_id_is_in_every_log_line_it_made(system):
    trace_id = secrets.token_hex(16)
    tokens = register_and_sign_in(system, f"tracer{secrets.token_hex(4)}")
    product_id = new_product(system, stock=5)

    placed = system.http.post(
        f"{system.gateway}/api/orders/",
        json={"items": [{"product_id": product_id, "quantity": 1}]},
        headers={
            "Authorization": f"Bearer {tokens['access']}",
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        },
        timeout=30,
    )
    assert placed.status_code == 201, placed.text

    # The gateway's access line, orders' (which called users and products), products'
    # (called by orders), and notifications' mail for the order.confirmed event.
    for process in ("gateway", "orders", "products", "notifications-consumer"):
        assert wait_for(
            lambda process=process: f"trace_id={trace_id}" in system.log(process), timeout=30
        ), process


def test_a_request_without_a_trace_gets_one_at_the_gateway(system):
    response = system.http.get(f"{system.gateway}/api/products/", timeout=10)
    request_id = response.headers["X-Request-ID"]

    def products_line() -> str | None:
        lines = system.log("products").splitlines()
        return next((line for line in lines if f"request_id={request_id}" in line), None)

    line = wait_for(products_line, timeout=10)
    assert "trace_id=-" not in line
    assert "trace_id=" in line
