"""The events payments consumes, handed to its inbox as the consumer does: each order is
charged at most once, whatever is delivered twice or late, and each outcome is published
(in the outbox afterwards) with the payment it describes."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from payments import services
from payments.models import Payment
from payments.payloads import placed_order
from payments.providers import ProviderUnavailable
from souk_common.events.consume import dead_letter_replay
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent, OutboxEvent
from tests.conftest import cancelled_event, placed_event, v1_cancelled_event

pytestmark = pytest.mark.django_db


def published(type=None):
    """The outbox's events (of ``type``), oldest first, as (type, data)."""
    events = OutboxEvent.objects.order_by("id")
    if type is not None:
        events = events.filter(type=type)
    return [(event.type, event.envelope["data"]) for event in events]


def later():
    """A time past any backoff: every retry is due."""
    return timezone.now() + timedelta(hours=1)


def state_of(event):
    return InboxEvent.objects.get(event_id=event.id).state


def test_a_placed_order_is_charged_its_total_and_payment_succeeded_is_published(inbox, provider):
    event = placed_event(user_id=3, total="62.90", card="tok_mastercard")
    order_id = event.data["order_id"]

    state = inbox.receive(event)

    assert state == "handled"
    payment = Payment.objects.get()
    assert (str(payment.order_id), payment.user_id) == (order_id, 3)
    assert (payment.status, payment.amount, payment.reason) == ("succeeded", Decimal("62.90"), "")
    assert payment.token_hint == "tok_…card"
    [charge] = provider.charges()
    assert (charge.idempotency_key, charge.amount) == (f"order-{order_id}", "62.90")
    assert payment.transaction_id.startswith("txn_")
    [(type, data)] = published()
    assert type == "payment.succeeded"
    assert data == {
        "payment_id": str(payment.id),
        "order_id": order_id,
        "user_id": 3,
        "amount": "62.90",
        "transaction_id": payment.transaction_id,
    }
    envelope = OutboxEvent.objects.get().envelope
    assert (envelope["source"], envelope["version"]) == ("payments", 1)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_insufficientFunds", "insufficient_funds"),
        ("tok_madeUp", "invalid_token"),
    ],
)
def test_a_declined_charge_publishes_payment_failed_with_the_reason(inbox, provider, token, reason):
    event = placed_event(user_id=4, card=token, total="10.00")

    inbox.receive(event)

    payment = Payment.objects.get()
    assert (payment.status, payment.reason, payment.transaction_id) == ("failed", reason, "")
    assert published() == [
        (
            "payment.failed",
            {
                "payment_id": str(payment.id),
                "order_id": event.data["order_id"],
                "user_id": 4,
                "amount": "10.00",
                "reason": reason,
            },
        )
    ]
    assert state_of(event) == "handled"


def test_the_same_event_delivered_twice_charges_once(inbox, provider):
    event = placed_event()

    first = inbox.receive(event)
    second = inbox.receive(event)

    assert (first, second) == ("handled", None)
    assert len(provider.charges()) == 1
    assert Payment.objects.count() == 1
    assert len(published("payment.succeeded")) == 1


def test_two_events_placing_one_order_charge_it_once(inbox, provider):
    order_id = uuid.uuid4()
    first, second = placed_event(order_id=order_id), placed_event(order_id=order_id)

    inbox.receive(first)
    inbox.receive(second)

    assert (state_of(first), state_of(second)) == ("handled", "handled")
    assert len(provider.charges()) == 1
    assert Payment.objects.get().status == "succeeded"
    assert len(published()) == 1


def test_a_declined_order_placed_again_is_not_charged_again(inbox, provider):
    order_id = uuid.uuid4()

    inbox.receive(placed_event(order_id=order_id, card="tok_chargeDeclined"))
    inbox.receive(placed_event(order_id=order_id, card="tok_visa"))

    assert len(provider.charges()) == 1
    assert Payment.objects.get().status == "failed"
    assert [type for type, _ in published()] == ["payment.failed"]


def test_a_provider_that_is_down_raises_and_nothing_is_stored_nor_published(provider):
    order = placed_order(placed_event(card="tok_providerDown").data)

    with pytest.raises(ProviderUnavailable), transaction.atomic():
        services.payment_charge(order=order)

    assert len(provider.charges()) == 1
    assert not Payment.objects.exists()
    assert published() == []


def test_a_provider_down_is_retried_with_backoff_then_dead_lettered_and_nothing_is_kept(
    inbox, provider, settings
):
    settings.SOUK = {**settings.SOUK, "EVENTS_MAX_ATTEMPTS": 3}
    event = placed_event(card="tok_providerDown")

    first = inbox.receive(event)
    waiting = InboxEvent.objects.get(event_id=event.id)
    retried = inbox.retry_due(now=later())  # the second and the third attempt

    assert first == "retrying"
    assert waiting.next_attempt_at > timezone.now()
    assert "ProviderUnavailable" in waiting.last_error
    assert retried == 2
    assert state_of(event) == "dead"
    assert len(provider.charges()) == 3
    assert not Payment.objects.exists()
    assert published() == []


def test_a_provider_back_after_a_failure_charges_the_order_once_on_the_retry(inbox, provider):
    provider.down_for = 1
    event = placed_event()

    first = inbox.receive(event)
    inbox.retry_due(now=later())

    assert first == "retrying"
    assert state_of(event) == "handled"
    # Both attempts asked with the same key: for the provider they are one charge.
    assert {call.idempotency_key for call in provider.charges()} == {
        f"order-{event.data['order_id']}"
    }
    assert Payment.objects.get().status == "succeeded"
    assert len(published("payment.succeeded")) == 1


def test_an_order_cancelled_before_it_was_placed_is_never_charged(inbox, provider):
    order_id = uuid.uuid4()

    inbox.receive(cancelled_event(order_id=order_id, user_id=5))
    inbox.receive(placed_event(order_id=order_id, user_id=5))

    assert provider.calls == []
    payment = Payment.objects.get()
    assert (payment.status, payment.user_id, payment.amount) == ("cancelled", 5, Decimal("62.90"))
    assert published() == []


def test_an_order_whose_charge_waits_for_a_retry_is_not_charged_once_cancelled(inbox, provider):
    provider.down_for = 1
    order_id = uuid.uuid4()
    placed = placed_event(order_id=order_id)

    inbox.receive(placed)
    inbox.receive(cancelled_event(order_id=order_id))
    inbox.retry_due(now=later())

    assert len(provider.charges()) == 1  # the attempt that found the provider down
    assert Payment.objects.get().status == "cancelled"
    assert state_of(placed) == "handled"
    assert published() == []


def test_a_succeeded_payment_is_refunded_once_when_its_order_is_cancelled(inbox, provider):
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id, user_id=6, total="20.00"))

    inbox.receive(cancelled_event(order_id=order_id, user_id=6, was_paid=True, total="20.00"))
    inbox.receive(cancelled_event(order_id=order_id, user_id=6, was_paid=True, total="20.00"))

    payment = Payment.objects.get()
    assert payment.status == "refunded"
    assert payment.refund_id.startswith("re_")
    [refund] = provider.refunds()
    assert (refund.idempotency_key, refund.amount) == (f"refund-{order_id}", "20.00")
    assert published() == [
        (
            "payment.succeeded",
            {
                "payment_id": str(payment.id),
                "order_id": str(order_id),
                "user_id": 6,
                "amount": "20.00",
                "transaction_id": payment.transaction_id,
            },
        ),
        (
            "payment.refunded",
            {
                "payment_id": str(payment.id),
                "order_id": str(order_id),
                "user_id": 6,
                "amount": "20.00",
                "transaction_id": payment.transaction_id,
                "refund_id": payment.refund_id,
            },
        ),
    ]


def test_a_cancellation_delivered_twice_refunds_once(inbox, provider):
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id))
    cancelled = cancelled_event(order_id=order_id, was_paid=True)

    inbox.receive(cancelled)
    inbox.receive(cancelled)

    assert len(provider.refunds()) == 1
    assert len(published("payment.refunded")) == 1


def test_a_refund_that_finds_the_provider_down_is_retried_and_made_once(inbox, provider):
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id))
    provider.down_for = 1
    cancelled = cancelled_event(order_id=order_id, was_paid=True)

    first = inbox.receive(cancelled)
    between = Payment.objects.get().status
    inbox.retry_due(now=later())

    assert (first, between) == ("retrying", "succeeded")
    assert Payment.objects.get().status == "refunded"
    assert len(provider.refunds()) == 2  # asked twice, with one key: one refund
    assert len({call.idempotency_key for call in provider.refunds()}) == 1
    assert len(published("payment.refunded")) == 1


def test_a_timed_out_order_whose_payment_succeeded_later_is_refunded(inbox, provider):
    """The order was cancelled (no payment yet, it says) while the charge went through."""
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id))

    inbox.receive(cancelled_event(order_id=order_id, was_paid=False, reason="payment_timeout"))

    assert Payment.objects.get().status == "refunded"
    assert [type for type, _ in published()] == ["payment.succeeded", "payment.refunded"]


def test_a_failed_payment_is_left_as_it_is_when_its_order_is_cancelled(inbox, provider):
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id, card="tok_insufficientFunds"))

    inbox.receive(cancelled_event(order_id=order_id))

    assert Payment.objects.get().status == "failed"
    assert provider.refunds() == []
    assert [type for type, _ in published()] == ["payment.failed"]


def test_a_point_of_sale_order_cancelled_has_no_payment_to_cancel(inbox, provider):
    event = v1_cancelled_event(order_id=uuid.uuid4())

    state = inbox.receive(event)

    assert state == "handled"
    assert not Payment.objects.exists()
    assert provider.calls == []


@pytest.mark.parametrize(
    "change",
    [
        {"order_id": "not-a-uuid"},
        {"user_id": "1"},
        {"total": 62.9},
        {"total": "-1.00"},
        {"payment_token": None},
    ],
)
def test_an_order_placed_that_is_not_what_version_1_promises_is_a_dead_letter(
    inbox, provider, change
):
    event = placed_event(**change)

    inbox.receive(event)
    inbox.retry_due(now=later())

    assert state_of(event) == "dead"
    assert provider.calls == []
    assert not Payment.objects.exists()


def test_a_dead_letter_replayed_after_its_order_was_cancelled_charges_nothing(
    inbox, provider, settings
):
    settings.SOUK = {**settings.SOUK, "EVENTS_MAX_ATTEMPTS": 1}
    order_id = uuid.uuid4()
    placed = placed_event(order_id=order_id, card="tok_providerDown")
    inbox.receive(placed)
    inbox.receive(cancelled_event(order_id=order_id, reason="payment_timeout"))

    replayed = dead_letter_replay(placed.id)
    inbox.retry_due(now=later())

    assert replayed
    assert state_of(placed) == "handled"
    assert len(provider.charges()) == 1
    assert Payment.objects.get().status == "cancelled"


@pytest.mark.parametrize(
    "type", ["order.confirmed", "order.paid", "order.payment_failed", "order.shipped"]
)
def test_orders_other_events_arrive_too_and_leave_nothing(inbox, provider, type):
    # What each carries does not matter here: an order's facts, under another type.
    other = Event(type=type, source="orders", data=cancelled_event(order_id=uuid.uuid4()).data)

    state = inbox.receive(other)

    # Ignored: the queue receives all of souk.orders; no inbox row, so no dead letter.
    assert state is None
    assert not InboxEvent.objects.exists()
    assert not Payment.objects.exists()
    assert published() == []
    assert provider.calls == []


def test_an_orders_event_of_a_type_nobody_declared_is_a_dead_letter(inbox, provider):
    unknown = Event(type="order.misplaced", source="orders", data={"order_id": "x"})

    assert inbox.receive(unknown) == "dead"
