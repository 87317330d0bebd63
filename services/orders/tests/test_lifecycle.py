"""A checkout's life after POST /api/checkout/: payments' and shipping's events, handed to
the service's inbox as its consumer does, move the order on exactly once, whatever is
delivered twice or late; its owner cancels it; reconcile_orders cancels it when no payment
outcome arrives in time. What a client sees (the order), what products holds and sells,
and what orders publishes (its outbox) say so."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.handlers import handlers
from orders.models import Order
from orders.services import orders_reconcile
from souk_common.events.consume import Inbox
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.testing import Dropped, Hung, run_concurrently
from tests.conftest import (
    ADDRESS,
    checkout,
    client_for,
    payment_failed,
    payment_refunded,
    payment_succeeded,
    place,
    shipment_created,
)

pytestmark = pytest.mark.django_db

HANDLED, RETRYING, DEAD = "handled", "retrying", "dead"


@pytest.fixture
def order(alice, shop, cart):
    """Alice's checkout, awaiting payment: 2 Sencha and a Teapot, 58.00 + 6.40 to France."""
    cart.fill(1, (1, 2), (2, 1))
    response = checkout(alice)
    assert response.status_code == 202
    return response.json()


def published(type):
    return [event.envelope["data"] for event in OutboxEvent.objects.filter(type=type)]


def later():
    """Past every retry's backoff."""
    return timezone.now() + timedelta(hours=1)


def seen(client, order):
    return client.get(f"/api/orders/{order['id']}/").json()


def paid(inbox, order):
    assert inbox.receive(payment_succeeded(order)) == HANDLED


# payment.succeeded ------------------------------------------------------------------------


def test_a_succeeded_payment_sells_the_stock_and_the_order_is_paid(alice, order, inbox, products):
    state = inbox.receive(payment_succeeded(order))

    assert state == HANDLED
    now = seen(alice, order)
    assert now["status"] == "paid"
    assert now["payment"] == {"status": "succeeded", "transaction_id": "txn_0001", "reason": None}
    assert now["shipment"] is None
    assert products.reservations[order["id"]]["status"] == "committed"
    assert products.count("commit") == 1
    assert (products.stock(1), products.stock(2)) == (8, 1)
    [event] = published("order.paid")
    assert event == {
        "order_id": order["id"],
        "user_id": 1,
        "status": "paid",
        "items": order["items"],
        "subtotal": "58.00",
        "shipping_cost": "6.40",
        "total": "64.40",
        "shipping_address": ADDRESS,
        "transaction_id": "txn_0001",
        "created_at": event["created_at"],
    }


def test_a_succeeded_payment_delivered_twice_sells_once_and_is_published_once(
    order, inbox, products
):
    event = payment_succeeded(order)

    assert inbox.receive(event) == HANDLED
    assert inbox.receive(event) is None  # the same event again: the inbox knows it
    assert inbox.receive(payment_succeeded(order)) == HANDLED  # told again, as a new event

    assert products.count("commit") == 1
    assert len(published("order.paid")) == 1
    assert Order.objects.get().status == "paid"


def test_a_second_payment_for_a_paid_order_is_not_taken_quietly(order, inbox):
    paid(inbox, order)

    state = inbox.receive(payment_succeeded(order, transaction_id="txn_9999"))

    assert state == RETRYING  # then a dead letter, for an operator to refund
    assert Order.objects.get().payment_transaction_id == "txn_0001"
    assert len(published("order.paid")) == 1


def test_when_products_is_down_the_payment_is_handled_once_it_is_back(order, inbox, products):
    products.failures["commit"] = Dropped()

    assert inbox.receive(payment_succeeded(order)) == RETRYING
    assert Order.objects.get().status == "awaiting_payment"
    assert not published("order.paid")

    products.failures.clear()
    assert inbox.retry_due(now=later()) == 1

    assert Order.objects.get().status == "paid"
    assert len(published("order.paid")) == 1


def test_a_handler_run_again_after_its_commit_went_through_sells_once(order, inbox, products):
    # Products sold the stock, but its answer was lost: the handler's transaction rolls
    # back, and the event is handled again; the commit, idempotent, is the same again.
    products.lost_answers["commit"] = Hung(1)

    assert inbox.receive(payment_succeeded(order)) == RETRYING
    assert products.reservations[order["id"]]["status"] == "committed"
    del products.lost_answers["commit"]
    inbox.retry_due(now=later())

    assert Order.objects.get().status == "paid"
    assert products.count("commit") == 2
    assert (products.stock(1), products.stock(2)) == (8, 1)
    assert len(published("order.paid")) == 1


def test_a_payment_that_does_not_match_the_total_does_not_pay_the_order(order, inbox, products):
    state = inbox.receive(payment_succeeded(order, amount="0.01"))

    assert state == RETRYING
    assert Order.objects.get().status == "awaiting_payment"
    assert products.count("commit") == 0


def test_a_payment_succeeding_after_the_owner_cancelled_is_recorded_and_the_order_stays_cancelled(
    alice, order, inbox, products
):
    assert alice.post(f"/api/orders/{order['id']}/cancel/").json()["status"] == "cancelled"

    assert inbox.receive(payment_succeeded(order)) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "cancelled"
    assert now["payment"]["status"] == "succeeded"  # payments refunds it
    assert products.count("commit") == 0
    assert (products.stock(1), products.stock(2)) == (10, 2)
    assert not published("order.paid")
    assert len(published("order.cancelled")) == 1


def test_a_payment_succeeding_after_the_timeout_is_recorded_and_the_order_stays_cancelled(
    alice, order, inbox, products
):
    Order.objects.update(placed_at=timezone.now() - timedelta(minutes=16))
    call_command("reconcile_orders")
    assert Order.objects.get().status == "cancelled"

    assert inbox.receive(payment_succeeded(order)) == HANDLED

    now = seen(alice, order)
    assert (now["status"], now["payment"]["status"]) == ("cancelled", "succeeded")
    assert products.count("commit") == 0
    assert (products.stock(1), products.stock(2)) == (10, 2)
    assert not published("order.paid")


# The hooks run on the fake products' thread, with its own database connection: two
# writers at once, which needs PostgreSQL (SQLite's in-memory test database locks).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["before the commit", "after the commit"])
def test_a_cancel_racing_the_payment_wins_and_the_payment_is_only_recorded(
    alice, order, inbox, products, when
):
    # The owner cancels while products sells the stock for the payment: before (the
    # commit is refused, the reservation released) or after (the sold stock comes back).
    def cancel():
        assert alice.post(f"/api/orders/{order['id']}/cancel/").status_code == 200

    if when == "before the commit":
        products.before["commit"] = cancel
    else:
        products.garble["commit"] = lambda answer: cancel() or json.dumps(answer)

    assert inbox.receive(payment_succeeded(order)) == HANDLED

    now = seen(alice, order)
    assert (now["status"], now["payment"]["status"]) == ("cancelled", "succeeded")
    assert (products.stock(1), products.stock(2)) == (10, 2)
    assert not published("order.paid")
    [cancelled] = published("order.cancelled")
    assert cancelled["reason"] == "customer"


# payment.failed ---------------------------------------------------------------------------


def test_a_failed_payment_releases_the_stock_with_its_reason(alice, order, inbox, products):
    assert inbox.receive(payment_failed(order, reason="insufficient_funds")) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "payment_failed"
    assert now["payment"] == {
        "status": "failed",
        "transaction_id": None,
        "reason": "insufficient_funds",
    }
    assert (products.stock(1), products.stock(2)) == (10, 2)
    assert products.count("release") == 1
    [event] = published("order.payment_failed")
    assert event == {
        "order_id": order["id"],
        "user_id": 1,
        "status": "payment_failed",
        "items": order["items"],
        "total": "64.40",
        "reason": "insufficient_funds",
        "created_at": event["created_at"],
    }


def test_a_failed_payment_told_twice_releases_once_and_is_published_once(order, inbox, products):
    event = payment_failed(order)

    assert inbox.receive(event) == HANDLED
    assert inbox.receive(event) is None
    assert inbox.receive(payment_failed(order)) == HANDLED

    assert products.count("release") == 1
    assert len(published("order.payment_failed")) == 1


def test_a_failure_after_a_success_changes_nothing(alice, order, inbox, products):
    paid(inbox, order)

    assert inbox.receive(payment_failed(order)) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "paid"
    assert now["payment"]["status"] == "succeeded"
    assert products.count("release") == 0
    assert not published("order.payment_failed")


def test_a_failed_payment_for_a_cancelled_order_is_recorded_only(alice, order, inbox, products):
    alice.post(f"/api/orders/{order['id']}/cancel/")

    assert inbox.receive(payment_failed(order)) == HANDLED

    now = seen(alice, order)
    assert (now["status"], now["payment"]["status"]) == ("cancelled", "failed")
    assert products.count("release") == 1
    assert not published("order.payment_failed")


# payment.refunded -------------------------------------------------------------------------


def test_a_refund_of_a_cancelled_paid_order_is_recorded(alice, order, inbox):
    paid(inbox, order)
    alice.post(f"/api/orders/{order['id']}/cancel/")

    assert inbox.receive(payment_refunded(order)) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "cancelled"
    assert now["payment"] == {"status": "refunded", "transaction_id": "txn_0001", "reason": None}


def test_a_refund_that_arrives_before_the_late_success_stays_refunded(alice, order, inbox):
    Order.objects.update(placed_at=timezone.now() - timedelta(minutes=16))
    orders_reconcile(grace=timedelta(seconds=30))
    assert inbox.receive(payment_refunded(order)) == HANDLED

    assert inbox.receive(payment_succeeded(order)) == HANDLED

    assert seen(alice, order)["payment"]["status"] == "refunded"


# shipment.created -------------------------------------------------------------------------


def test_a_shipment_ships_the_paid_order(alice, order, inbox):
    paid(inbox, order)

    assert inbox.receive(shipment_created(order)) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "shipped"
    assert now["shipment"] == {"carrier": "La Poste", "tracking_number": "LP123456789FR"}
    assert now["payment"]["status"] == "succeeded"
    [event] = published("order.shipped")
    assert event == {
        "order_id": order["id"],
        "user_id": 1,
        "status": "shipped",
        "items": order["items"],
        "total": "64.40",
        "carrier": "La Poste",
        "tracking_number": "LP123456789FR",
        "shipping_address": ADDRESS,
        "created_at": event["created_at"],
    }


def test_a_shipment_told_twice_ships_once(order, inbox):
    paid(inbox, order)
    event = shipment_created(order)

    assert inbox.receive(event) == HANDLED
    assert inbox.receive(event) is None
    assert inbox.receive(shipment_created(order)) == HANDLED

    assert len(published("order.shipped")) == 1


def test_a_shipment_before_the_payment_waits_and_ships_once_the_order_is_paid(alice, order, inbox):
    shipment = shipment_created(order)

    assert inbox.receive(shipment) == RETRYING
    assert seen(alice, order)["status"] == "awaiting_payment"
    assert not published("order.shipped")

    paid(inbox, order)
    assert inbox.retry_due(now=later()) == 1

    assert seen(alice, order)["status"] == "shipped"
    assert InboxEvent.objects.get(event_id=shipment.id).state == HANDLED
    assert len(published("order.shipped")) == 1


def test_a_shipment_for_a_cancelled_order_is_recorded_and_it_stays_cancelled(alice, order, inbox):
    paid(inbox, order)
    alice.post(f"/api/orders/{order['id']}/cancel/")

    assert inbox.receive(shipment_created(order)) == HANDLED

    now = seen(alice, order)
    assert now["status"] == "cancelled"
    assert now["shipment"]["tracking_number"] == "LP123456789FR"
    assert not published("order.shipped")


# What an event cannot be about ------------------------------------------------------------


def test_events_about_no_checkout_are_not_handled(alice, inbox, products):
    sale = place(alice, (1, 1)).json()  # a v1 order: no payment, no shipment
    unknown = {**sale, "id": str(uuid.uuid4())}

    for event in (payment_succeeded(sale), payment_succeeded(unknown), shipment_created(sale)):
        assert inbox.receive(event) == RETRYING
    assert Order.objects.get().status == "confirmed"


def test_an_event_whose_data_is_not_what_version_1_promises_is_a_dead_letter(order, inbox):
    event = payment_succeeded(order, amount=64.4)

    assert inbox.receive(event) == RETRYING
    inbox.retry_due(now=later())

    assert InboxEvent.objects.get(event_id=event.id).state == DEAD
    assert Order.objects.get().status == "awaiting_payment"


# Cancelling -------------------------------------------------------------------------------


def test_cancelling_an_order_awaiting_payment_releases_its_stock(alice, order, products):
    response = alice.post(f"/api/orders/{order['id']}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (products.stock(1), products.stock(2)) == (10, 2)
    [event] = published("order.cancelled")
    assert event == {
        "order_id": order["id"],
        "user_id": 1,
        "status": "cancelled",
        "items": order["items"],
        "subtotal": "58.00",
        "shipping_cost": "6.40",
        "total": "64.40",
        "was_paid": False,
        "reason": "customer",
        "created_at": event["created_at"],
    }


def test_cancelling_a_paid_order_returns_its_sold_stock_and_says_it_was_paid(
    alice, order, inbox, products
):
    paid(inbox, order)

    response = alice.post(f"/api/orders/{order['id']}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["payment"]["status"] == "succeeded"  # refunded by payments next
    assert products.count("release") == 1
    assert (products.stock(1), products.stock(2)) == (10, 2)
    [event] = published("order.cancelled")
    assert (event["was_paid"], event["reason"]) == (True, "customer")


def test_cancelling_again_is_200_and_nothing_happens_twice(alice, order, products):
    first = alice.post(f"/api/orders/{order['id']}/cancel/")
    again = alice.post(f"/api/orders/{order['id']}/cancel/")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert products.count("release") == 1
    assert len(published("order.cancelled")) == 1


def test_a_shipped_order_cannot_be_cancelled(alice, order, inbox, products):
    paid(inbox, order)
    inbox.receive(shipment_created(order))

    response = alice.post(f"/api/orders/{order['id']}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert seen(alice, order)["status"] == "shipped"
    assert products.count("release") == 0
    assert not published("order.cancelled")


def test_an_order_whose_payment_failed_cannot_be_cancelled(alice, order, inbox, products):
    inbox.receive(payment_failed(order))

    response = alice.post(f"/api/orders/{order['id']}/cancel/")

    assert response.status_code == 409
    assert seen(alice, order)["status"] == "payment_failed"
    assert products.count("release") == 1  # the failure's, not another
    assert not published("order.cancelled")


def test_someone_elses_checkout_cannot_be_cancelled(bob, order, products):
    assert bob.post(f"/api/orders/{order['id']}/cancel/").status_code == 404
    assert Order.objects.get().status == "awaiting_payment"


# The payment timeout ----------------------------------------------------------------------


def age(order, **delta):
    Order.objects.filter(pk=order["id"]).update(placed_at=timezone.now() - timedelta(**delta))


def test_an_order_unpaid_past_the_timeout_is_cancelled_and_its_stock_released(
    alice, order, products
):
    age(order, seconds=901)

    call_command("reconcile_orders")

    assert seen(alice, order)["status"] == "cancelled"
    assert (products.stock(1), products.stock(2)) == (10, 2)
    [event] = published("order.cancelled")
    assert (event["reason"], event["was_paid"]) == ("payment_timeout", False)
    assert (event["subtotal"], event["shipping_cost"], event["total"]) == ("58.00", "6.40", "64.40")


def test_an_order_within_the_timeout_waits(order, products):
    age(order, seconds=899)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    assert counts == {"failed": 0, "cancelled": 0, "left": 0}
    assert Order.objects.get().status == "awaiting_payment"
    assert products.count("release") == 0


def test_the_timeout_is_a_setting(order, settings):
    settings.CHECKOUT_PAYMENT_TIMEOUT = 60
    age(order, seconds=61)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    assert counts["cancelled"] == 1
    assert Order.objects.get().status == "cancelled"


def test_paid_and_failed_orders_never_time_out(alice, cart, order, inbox, products):
    paid(inbox, order)
    cart.fill(1, (1, 1))
    failed = checkout(alice).json()
    inbox.receive(payment_failed(failed))
    Order.objects.update(placed_at=timezone.now() - timedelta(hours=2))

    orders_reconcile(grace=timedelta(seconds=30))

    assert seen(alice, order)["status"] == "paid"
    assert seen(alice, failed)["status"] == "payment_failed"
    assert not published("order.cancelled")


def test_a_payment_waiting_for_products_is_never_timed_out(order, inbox, products):
    products.failures["commit"] = Dropped()
    assert inbox.receive(payment_succeeded(order)) == RETRYING
    age(order, minutes=20)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    # The customer paid: the order waits for its payment's retry, not cancelled, not refunded.
    assert counts["cancelled"] == 0
    assert Order.objects.get().status == "awaiting_payment"
    assert not published("order.cancelled")
    products.failures.clear()
    assert inbox.retry_due(now=later()) == 1
    assert Order.objects.get().status == "paid"


def test_a_timeout_while_products_is_down_is_finished_by_the_next_run(order, products):
    age(order, minutes=20)
    products.failures["release"] = Dropped()

    assert orders_reconcile(grace=timedelta(seconds=30))["left"] == 1
    assert Order.objects.get().status == "cancelling"
    assert not published("order.cancelled")

    products.failures.clear()
    assert orders_reconcile(grace=timedelta(seconds=30))["cancelled"] == 1
    orders_reconcile(grace=timedelta(seconds=30))

    assert Order.objects.get().status == "cancelled"
    [event] = published("order.cancelled")
    assert event["reason"] == "payment_timeout"
    assert (products.stock(1), products.stock(2)) == (10, 2)


# Two consumers at once ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_payment_told_twice_to_two_consumers_at_once_pays_the_order_once(order, products):
    # Two consumer processes, each with the payment under an event id of its own (payments
    # published it twice): both commit at products (the same commit), one moves the order.
    events = [payment_succeeded(order), payment_succeeded(order)]

    states = run_concurrently(lambda index: Inbox(handlers).receive(events[index]), 2)

    assert states == [HANDLED, HANDLED]
    assert Order.objects.get().status == "paid"
    assert len(published("order.paid")) == 1
    assert (products.stock(1), products.stock(2)) == (8, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_and_a_cancel_at_once_end_paid_or_cancelled_never_both(
    alice, token_factory, order, products
):
    def act(index):
        if index == 0:
            return Inbox(handlers).receive(payment_succeeded(order))
        owner = client_for(token_factory.access(user_id=1, username="alice"))
        return owner.post(f"/api/orders/{order['id']}/cancel/").status_code

    results = run_concurrently(act, 2)

    assert results[0] == HANDLED
    now = seen(alice, order)
    assert now["status"] == "cancelled"  # paid first then cancelled, or cancelled first
    assert results[1] == 200
    assert now["payment"]["status"] == "succeeded"
    [cancelled] = published("order.cancelled")
    paid_first = published("order.paid")
    assert len(paid_first) <= 1
    if paid_first:  # then the cancel found it paid, and says a refund follows
        assert cancelled["was_paid"] is True
    assert (products.stock(1), products.stock(2)) == (10, 2)
