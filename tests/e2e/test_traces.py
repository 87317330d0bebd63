"""One trace id from the client (or the gateway) through every service and event of a
request, in every log line: an order placed through the gateway is followed in the
orders, products and notifications logs by its trace id alone."""

from __future__ import annotations

import secrets

from harness import (
    ADDRESS,
    bearer,
    new_product,
    put_in_cart,
    register_and_sign_in,
    wait_for,
    wait_for_status,
)


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


# Spans: every process exports to the suite's collector (system.otlp, tests/conftest.py).


def ancestry(spans, span) -> list[tuple[str, str]]:
    """``span`` and its ancestors to the root, as (service, name)."""
    by_id = {each.span_id: each for each in spans}
    chain = [(span.service, span.name)]
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append((span.service, span.name))
    return chain


def test_one_checkout_is_one_trace_across_every_service_and_the_broker(system):
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    token = register_and_sign_in(system, f"traced{secrets.token_hex(4)}")["access"]
    product_id = new_product(system, stock=5)
    put_in_cart(system, product_id, 2, token=token)

    placed = system.http.post(
        f"{system.gateway}/api/checkout/",
        json={"shipping_address": ADDRESS, "payment_token": "tok_visa"},
        headers={**bearer(token), "traceparent": f"00-{trace_id}-{client_span}-01"},
        timeout=30,
    )
    assert placed.status_code == 202, placed.text
    wait_for_status(system, token, placed.json()["id"], "shipped")

    def whole_trace():
        """The trace once the shipped mail's handling is in and every span's parent too."""
        spans = system.otlp.trace(trace_id)
        ids = {span.span_id for span in spans}
        mailed = [
            span
            for span in spans
            if (span.service, span.name) == ("notifications", "process order.shipped")
        ]
        orphans = [span for span in spans if span.parent_id not in ids | {client_span}]
        return mailed and not orphans and (spans, mailed[0])

    spans, mailed = wait_for(whole_trace, timeout=60)

    # One trace, from the client's span through the gateway...
    (root,) = [span for span in spans if span.parent_id == client_span]
    assert (root.service, root.kind, root.name) == (
        "gateway",
        "SPAN_KIND_SERVER",
        "POST /api/checkout/",
    )
    assert {
        "gateway",
        "orders",
        "users",
        "products",
        "cart",
        "shipping",
        "payments",
        "notifications",
    } <= {span.service for span in spans}
    # ...and across the broker: each event handled under the relay's sending of it, sent
    # under the handling (or the request) that published it, back to the checkout.
    assert ancestry(spans, mailed) == [
        ("notifications", "process order.shipped"),
        ("orders", "send order.shipped"),
        ("orders", "process shipment.created"),
        ("shipping", "send shipment.created"),
        ("shipping", "process order.paid"),
        ("orders", "send order.paid"),
        ("orders", "process payment.succeeded"),
        ("payments", "send payment.succeeded"),
        ("payments", "process order.placed"),
        ("orders", "send order.placed"),
        ("orders", "POST api/checkout/"),
        ("gateway", "POST orders"),
        ("gateway", "POST /api/checkout/"),
    ]
    kinds = {(span.service, span.name): span.kind for span in spans}
    assert kinds[("orders", "send order.placed")] == "SPAN_KIND_PRODUCER"
    assert kinds[("payments", "process order.placed")] == "SPAN_KIND_CONSUMER"
    # Each call between services is a client span, the parent of the callee's server span.
    by_id = {span.span_id: span for span in spans}
    served = [span for span in spans if span.kind == "SPAN_KIND_SERVER" and span is not root]
    assert {(by_id[span.parent_id].kind, span.service) for span in served} >= {
        ("SPAN_KIND_CLIENT", "users"),
        ("SPAN_KIND_CLIENT", "products"),
        ("SPAN_KIND_CLIENT", "cart"),
        ("SPAN_KIND_CLIENT", "shipping"),
    }
    assert all(by_id[span.parent_id].kind == "SPAN_KIND_CLIENT" for span in served)
    assert all(by_id[span.parent_id].service != span.service for span in served)
    # Spans say what a request, query or call is, never what it carries.
    carried = (token, ADDRESS["line1"], ADDRESS["postal_code"], "tok_visa")
    values = [str(value) for span in spans for value in span.attributes.values()]
    assert not [value for value in values if any(secret in value for secret in carried)]
    # And the queries: PostgreSQL's under each service that made them.
    queries = {span.service for span in spans if "db.system.name" in span.attributes}
    assert {"orders", "products", "payments", "shipping", "notifications"} <= queries
