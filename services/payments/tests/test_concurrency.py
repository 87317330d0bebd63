"""At most one charge per order when its events are handled at the same moment, by two
consumers on PostgreSQL, each in its own transaction (committed for real)."""

import uuid

import pytest

from payments.handlers import handlers
from payments.models import Payment
from souk_common.events.consume import Inbox
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.testing import run_concurrently
from tests.conftest import cancelled_event, placed_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def receive_together(*events):
    """Each event handed to an inbox of its own, in a thread of its own, all at once."""
    return run_concurrently(lambda index: Inbox(handlers).receive(events[index]), len(events))


def published(type):
    return OutboxEvent.objects.filter(type=type).count()


def test_two_events_placing_one_order_at_once_charge_it_once(provider):
    provider.delay = 0.3  # the first charge is in flight while the second event arrives
    order_id = uuid.uuid4()

    states = receive_together(placed_event(order_id=order_id), placed_event(order_id=order_id))

    assert states == ["handled", "handled"]
    assert len(provider.charges()) == 1
    assert Payment.objects.get().status == "succeeded"
    assert published("payment.succeeded") == 1


def test_one_event_delivered_twice_at_once_charges_once(provider):
    provider.delay = 0.3
    event = placed_event()

    states = receive_together(event, event)

    assert set(states) == {"handled", None}  # None: the duplicate, which had no effect
    assert len(provider.charges()) == 1
    assert InboxEvent.objects.get().state == "handled"
    assert Payment.objects.get().status == "succeeded"
    assert published("payment.succeeded") == 1


def test_an_order_placed_and_cancelled_at_once_is_never_left_charged(provider):
    provider.delay = 0.3
    order_id = uuid.uuid4()

    states = receive_together(
        placed_event(order_id=order_id), cancelled_event(order_id=order_id, was_paid=False)
    )

    payment = Payment.objects.get()
    assert states == ["handled", "handled"]
    # Either the cancellation came first and nothing was charged, or it waited for the
    # charge and refunded it: never a charge that stands.
    assert (payment.status, len(provider.charges()), len(provider.refunds())) in [
        ("cancelled", 0, 0),
        ("refunded", 1, 1),
    ]
    assert published("payment.succeeded") == published("payment.refunded")


def test_two_cancellations_of_a_paid_order_at_once_refund_it_once(provider, inbox):
    order_id = uuid.uuid4()
    inbox.receive(placed_event(order_id=order_id))
    provider.delay = 0.3  # the first refund is in flight while the second event arrives

    states = receive_together(
        cancelled_event(order_id=order_id, was_paid=True),
        cancelled_event(order_id=order_id, was_paid=True),
    )

    assert states == ["handled", "handled"]
    assert len(provider.refunds()) == 1
    assert Payment.objects.get().status == "refunded"
    assert published("payment.refunded") == 1
