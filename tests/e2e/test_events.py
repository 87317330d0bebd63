"""Events from end to end: the services' relays, the broker and the notifications
consumer, until a real SMTP server receives the customer's mail."""

from __future__ import annotations

import time
import uuid

from harness import bearer, mail_to, new_product, place_order, register_and_sign_in, wait_for


def test_signing_up_then_placing_and_cancelling_an_order_mails_the_customer_each_time(system):
    username = f"mailed{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    token = register_and_sign_in(system, username)["access"]
    tea = new_product(system, stock=10, price="4.25")

    placed = place_order(system, token, [(tea, 3)])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    cancelled = system.http.post(
        f"{system.gateway}/api/orders/{order['id']}/cancel/", headers=bearer(token), timeout=10
    )
    assert cancelled.status_code == 200, cancelled.text

    wait_for(lambda: len(mail_to(system, address)) >= 3, timeout=30)
    time.sleep(2)  # a duplicate would arrive meanwhile
    arrived = mail_to(system, address)
    assert len(arrived) == 3
    (welcome,) = [m for m in arrived if m.subject.startswith("Welcome")]
    (confirmed,) = [m for m in arrived if m.subject.endswith("is confirmed")]
    (cancellation,) = [m for m in arrived if m.subject.endswith("is cancelled")]
    assert welcome.subject == f"Welcome to Souk, {username}"
    assert confirmed.subject == f"Your Souk order {order['id']} is confirmed"
    name = order["items"][0]["name"]
    assert f"3 x {name} at 4.25: 12.75" in confirmed.text
    assert "Total: 12.75" in confirmed.text
    assert cancellation.subject == f"Your Souk order {order['id']} is cancelled"
    assert order["id"] in cancellation.text
    assert len({welcome.message_id, confirmed.message_id, cancellation.message_id}) == 3
