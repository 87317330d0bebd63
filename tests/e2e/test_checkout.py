"""The shop from end to end, through the gateway: a guest's cart, checkout, payment and
shipping on events, and the mail the customer gets at a real SMTP server."""

from __future__ import annotations

import json
import time
import uuid

from harness import (
    bearer,
    check_stock_invariant,
    checkout,
    guest_cart,
    mail_to,
    new_product,
    payments_of,
    product_stock,
    put_in_cart,
    register_and_sign_in,
    wait_for,
    wait_for_status,
)


def new_customer(system) -> tuple[str, str]:
    """A new account's access token, and its e-mail address."""
    username = f"shopper{uuid.uuid4().hex[:8]}"
    return register_and_sign_in(system, username)["access"], f"{username}@example.com"


def mail_about(system, address: str, order_id: str) -> list:
    return [mail for mail in mail_to(system, address) if order_id in mail.subject]


def test_a_guest_cart_merged_at_sign_in_is_checked_out_paid_and_shipped(system):
    tea = new_product(system, stock=10, price="4.25")
    cups = new_product(system, stock=5, price="12.00")
    cart_id = guest_cart(system)
    put_in_cart(system, tea, 2, cart_id=cart_id)
    put_in_cart(system, cups, 1, cart_id=cart_id)
    token, address = new_customer(system)

    merged = system.http.post(
        f"{system.gateway}/api/cart/merge/",
        json={"cart_id": cart_id},
        headers=bearer(token),
        timeout=10,
    )
    assert merged.status_code == 200, merged.text
    assert {(line["product_id"], line["quantity"]) for line in merged.json()["items"]} == {
        (tea, 2),
        (cups, 1),
    }
    assert (
        system.http.get(
            f"{system.gateway}/api/cart/", headers={"X-Cart-ID": cart_id}, timeout=10
        ).status_code
        == 404
    )  # the guest cart is gone

    placed = checkout(system, token, "tok_visa")

    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert order["status"] == "awaiting_payment"
    assert placed.headers["Location"].endswith(f"/api/orders/{order['id']}/")
    assert order["subtotal"] == "20.50"
    assert order["total"] == f"{20.50 + float(order['shipping_cost']):.2f}"
    assert (
        system.http.get(f"{system.gateway}/api/cart/", headers=bearer(token), timeout=10).json()[
            "items"
        ]
        == []
    )  # the cart is emptied once the order is placed

    shipped = wait_for_status(system, token, order["id"], "shipped")
    assert shipped["payment"]["status"] == "succeeded"
    assert shipped["payment"]["transaction_id"]
    tracking = shipped["shipment"]["tracking_number"]
    assert tracking
    assert shipped["shipment"]["carrier"]
    (payment,) = payments_of(system, token, order["id"])
    assert payment["status"] == "succeeded"
    assert payment["amount"] == order["total"]
    assert "tok_visa" not in json.dumps(payment)
    # Sold once: what the order holds left the shelf, and nothing else.
    assert product_stock(system, tea) == 8
    assert product_stock(system, cups) == 4
    check_stock_invariant(system)

    wait_for(lambda: len(mail_about(system, address, order["id"])) >= 2, timeout=30)
    time.sleep(2)  # a duplicate would arrive meanwhile
    mails = mail_about(system, address, order["id"])
    assert len(mails) == 2, [mail.subject for mail in mails]
    (confirmation,) = [mail for mail in mails if tracking not in mail.text]
    (shipping,) = [mail for mail in mails if tracking in mail.text]
    assert order["total"] in confirmation.text
    assert "8.50" in confirmation.text  # 2 x 4.25
    assert shipped["shipment"]["carrier"] in shipping.text


def test_a_declined_card_fails_the_payment_returns_the_stock_and_says_why(system):
    tea = new_product(system, stock=6)
    token, address = new_customer(system)
    cart_id = guest_cart(system)
    put_in_cart(system, tea, 4, cart_id=cart_id)

    placed = checkout(system, token, "tok_chargeDeclined", cart_id=cart_id)  # merged on the way

    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert [(line["product_id"], line["quantity"]) for line in order["items"]] == [(tea, 4)]
    failed = wait_for_status(system, token, order["id"], "payment_failed")
    assert failed["payment"]["reason"] == "card_declined"
    assert product_stock(system, tea) == 6
    (payment,) = payments_of(system, token, order["id"])
    assert (payment["status"], payment["reason"]) == ("failed", "card_declined")
    (mail,) = wait_for(lambda: mail_about(system, address, order["id"]), timeout=30)
    assert "card_declined" in mail.text or "declined" in mail.text
    check_stock_invariant(system)


def test_a_provider_that_stays_down_dead_letters_the_charge_and_the_order_times_out(system):
    tea = new_product(system, stock=3)
    token, _ = new_customer(system)
    put_in_cart(system, tea, 2, token=token)

    placed = checkout(system, token, "tok_providerDown")

    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert product_stock(system, tea) == 1  # held meanwhile

    def dead_letter():
        listing = system.stack.manage("payments", "dead_letters", capture=True)
        return [line for line in listing.splitlines() if "order.placed" in line]

    # Payments' tries (2, 4, 8, 16 s apart) end before the order's payment timeout.
    assert wait_for(dead_letter, timeout=60, interval=2)
    cancelled = wait_for_status(system, token, order["id"], "cancelled", timeout=60)
    assert cancelled["payment"] is None or cancelled["payment"]["status"] != "succeeded"
    assert product_stock(system, tea) == 3
    # Nothing was charged, and nothing will be: the order's cancellation reached payments.
    assert all(p["status"] != "succeeded" for p in payments_of(system, token, order["id"]))
    check_stock_invariant(system)


def test_cancelling_a_paid_order_refunds_it_and_returns_the_stock(system):
    tea = new_product(system, stock=5, price="3.00")
    token, address = new_customer(system)
    put_in_cart(system, tea, 3, token=token)
    system.stop("shipping-consumer")  # so that the order stays paid, not shipped
    try:
        order = checkout(system, token, "tok_mastercard").json()
        wait_for_status(system, token, order["id"], "paid")

        cancelled = system.http.post(
            f"{system.gateway}/api/orders/{order['id']}/cancel/", headers=bearer(token), timeout=10
        )
    finally:
        system.start("shipping-consumer")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert product_stock(system, tea) == 5

    def refunded():
        payments = payments_of(system, token, order["id"])
        return payments if payments and payments[0]["status"] == "refunded" else None

    (payment,) = wait_for(refunded, timeout=30)
    assert payment["amount"] == order["total"]
    (mail,) = wait_for(
        lambda: [m for m in mail_about(system, address, order["id"]) if "refund" in m.text.lower()],
        timeout=30,
    )
    assert order["total"] in mail.text
    time.sleep(1)  # the shipping consumer, back, must not ship a cancelled order
    assert _status(system, token, order["id"]) == "cancelled"
    check_stock_invariant(system)


def _status(system, token: str, order_id: str) -> str:
    response = system.http.get(
        f"{system.gateway}/api/orders/{order_id}/", headers=bearer(token), timeout=10
    )
    return str(response.json()["status"])


def test_two_checkouts_with_one_idempotency_key_make_one_order_and_one_charge(system):
    tea = new_product(system, stock=5)
    token, _ = new_customer(system)
    put_in_cart(system, tea, 1, token=token)
    key = f"checkout-{uuid.uuid4()}"

    first = checkout(system, token, key=key)
    second = checkout(system, token, key=key)

    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    order_id = first.json()["id"]
    wait_for_status(system, token, order_id, "shipped")
    assert len(payments_of(system, token, order_id)) == 1
    assert product_stock(system, tea) == 4
    listed = system.http.get(f"{system.gateway}/api/orders/", headers=bearer(token), timeout=10)
    assert [o["id"] for o in listed.json()["results"]] == [order_id]
