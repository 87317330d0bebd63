"""Orders: the order page follows the status by itself; history; cancel with a confirmation."""

from tests.answers import ORDER_ID, calls, error, order, page


def test_an_order_that_may_still_move_polls_and_refreshes_without_javascript(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "awaiting_payment"))

    body = signed_in.get(f"/orders/{ORDER_ID}/").content.decode()

    assert "Awaiting payment" in body
    assert f'hx-get="/orders/{ORDER_ID}/status/" hx-trigger="every 2s"' in body
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in body


def test_the_status_block_stops_polling_once_shipped(signed_in, api):
    shipment = {"carrier": "Colissimo", "tracking_number": "CO123456789FR"}
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "shipped", shipment=shipment))

    block = signed_in.get(f"/orders/{ORDER_ID}/status/").content.decode()
    whole = signed_in.get(f"/orders/{ORDER_ID}/").content.decode()

    assert "Shipped" in block
    assert "CO123456789FR" in block
    assert "hx-trigger" not in block
    assert "<html" not in block
    assert "http-equiv" not in whole


def test_a_declined_payment_says_why(signed_in, api):
    payment = {"status": "failed", "transaction_id": None, "reason": "card_declined"}
    api.add(
        "GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "payment_failed", payment=payment)
    )

    body = signed_in.get(f"/orders/{ORDER_ID}/").content.decode()

    assert "Payment failed" in body
    assert "Your card was declined." in body


def test_an_order_refused_for_stock_says_it_was_tried_not_placed(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "rejected"))

    body = signed_in.get(f"/orders/{ORDER_ID}/").content.decode()

    assert "Not placed: out of stock" in body
    assert "Tried 30 Nov 2026, 10:00 UTC" in body
    assert "Placed" not in body
    assert "nothing was held and nothing was charged" in body


def test_someone_elses_order_is_a_404_page(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", status=404, body=error("not_found", "Not found."))

    assert signed_in.get(f"/orders/{ORDER_ID}/").status_code == 404


def test_history_lists_the_shoppers_orders(signed_in, api):
    api.add("GET", "/api/orders/", json=page([order(ORDER_ID, "paid")], count=13, next=None))

    body = signed_in.get("/orders/?page=2").content.decode()

    assert "Paid" in body
    assert "€26.95" in body
    assert "Page 2 of 2" in body
    assert "page=2&page_size=12" in calls(api, "GET", "/api/orders/")[0].url


def test_past_a_thousand_orders_older_follows_the_apis_cursor(signed_in, api):
    api.add(
        "GET",
        "/api/orders/",
        json=page([order(ORDER_ID, "paid")], count=1000, next="/api/orders/?cursor=WyJ4Il0"),
    )
    api.add("GET", "/api/orders/", json=page([order(ORDER_ID, "shipped")], count=1000))

    last_numbered = signed_in.get("/orders/?page=84").content.decode()
    older = signed_in.get("/orders/?cursor=WyJ4Il0").content.decode()

    assert 'href="?cursor=WyJ4Il0"' in last_numbered
    assert "Page 84<" in last_numbered
    asked = calls(api, "GET", "/api/orders/")[1].url
    assert "cursor=WyJ4Il0" in asked
    assert "page=" not in asked.replace("page_size", "")
    assert "← Newest" in older


def test_cancel_asks_first_then_cancels(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "paid"))
    api.add("POST", f"/api/orders/{ORDER_ID}/cancel/", json=order(ORDER_ID, "cancelled"))

    asked = signed_in.get(f"/orders/{ORDER_ID}/cancel/")
    assert "Cancel this order?" in asked.content.decode()
    assert "You will be refunded." in asked.content.decode()
    assert not calls(api, "POST", f"/api/orders/{ORDER_ID}/cancel/")

    done = signed_in.post(f"/orders/{ORDER_ID}/cancel/", follow=True)

    assert len(calls(api, "POST", f"/api/orders/{ORDER_ID}/cancel/")) == 1
    assert "Your order is cancelled." in done.content.decode()


def test_a_shipped_order_cannot_be_cancelled_and_says_so(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "shipped"))
    api.add(
        "POST",
        f"/api/orders/{ORDER_ID}/cancel/",
        status=409,
        body=error("conflict", "This order has shipped."),
    )

    done = signed_in.post(f"/orders/{ORDER_ID}/cancel/", follow=True)

    assert "This order has shipped." in done.content.decode()


def test_a_history_page_past_the_last_leads_to_the_first(signed_in, api):
    api.add("GET", "/api/orders/", status=404, body=error("not_found", "Invalid page."))

    response = signed_in.get("/orders/?page=99")

    assert response["Location"] == "/orders/"


def test_a_shipped_orders_cancel_page_offers_no_button(signed_in, api):
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID, "shipped"))

    body = signed_in.get(f"/orders/{ORDER_ID}/cancel/").content.decode()

    assert "This order cannot be cancelled" in body
    assert "confirm-cancel" not in body
