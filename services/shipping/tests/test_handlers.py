"""Orders' events, handed to the service's inbox as its consumer does: ``order.paid`` ships
the order once (one shipment, one ``shipment.created`` in the outbox) however often and
under however many event ids it arrives; ``order.cancelled`` cancels the shipment."""

import dataclasses
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from shipping.models import Shipment, ShippingRate
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.testing import run_concurrently
from tests.conftest import cancelled_event, paid_event

pytestmark = pytest.mark.django_db

TRACKING_NUMBER = re.compile(r"SK[23456789A-HJ-NP-Z]{16}")


def published(type="shipment.created"):
    """The envelopes of the events of ``type`` in the outbox, oldest first."""
    return [event.envelope for event in OutboxEvent.objects.filter(type=type).order_by("id")]


def test_a_paid_order_gets_one_shipment_by_its_countrys_carrier_and_one_event(inbox):
    event = paid_event(user_id=7, country="FR")

    state = inbox.receive(event)

    assert state == "handled"
    shipment = Shipment.objects.get()
    assert str(shipment.order_id) == event.data["order_id"]
    assert (shipment.user_id, shipment.status, shipment.country) == (7, "created", "FR")
    assert (shipment.carrier, shipment.estimated_days) == ("Colissimo", 4)
    assert TRACKING_NUMBER.fullmatch(shipment.tracking_number)
    [created] = published()
    assert (created["source"], created["version"]) == ("shipping", 1)
    assert created["data"] == {
        "shipment_id": shipment.pk,
        "order_id": event.data["order_id"],
        "user_id": 7,
        "carrier": "Colissimo",
        "tracking_number": shipment.tracking_number,
        "estimated_days": 4,
    }
    assert OutboxEvent.objects.count() == 1


def test_the_event_carries_the_request_id_and_trace_of_the_event_that_caused_it(inbox):
    trace = f"00-{'a' * 32}-{'b' * 16}-01"
    event = dataclasses.replace(paid_event(), request_id="checkout-42", traceparent=trace)

    inbox.receive(event)

    [created] = published()
    assert created["request_id"] == "checkout-42"
    assert created["traceparent"] == trace


def test_a_duplicate_delivery_ships_once_and_publishes_once(inbox):
    event = paid_event()

    first = inbox.receive(event)
    again = inbox.receive(event)

    assert (first, again) == ("handled", None)
    assert Shipment.objects.count() == 1
    assert len(published()) == 1


def test_two_events_about_one_paid_order_ship_it_once(inbox):
    order_id = uuid.uuid4()
    first, second = paid_event(order_id=order_id), paid_event(order_id=order_id)

    states = [inbox.receive(first), inbox.receive(second)]

    assert states == ["handled", "handled"]
    shipment = Shipment.objects.get()
    [created] = published()
    assert created["data"]["tracking_number"] == shipment.tracking_number
    assert set(InboxEvent.objects.values_list("event_id", "state")) == {
        (first.id, "handled"),
        (second.id, "handled"),
    }


def test_each_order_gets_a_tracking_number_of_its_own(inbox):
    for _ in range(20):
        inbox.receive(paid_event())

    numbers = list(Shipment.objects.values_list("tracking_number", flat=True))
    assert len(set(numbers)) == 20
    assert sorted(event["data"]["tracking_number"] for event in published()) == sorted(numbers)


def test_a_cancelled_order_has_its_shipment_cancelled_and_nothing_is_published(inbox):
    order_id = uuid.uuid4()
    inbox.receive(paid_event(order_id=order_id))
    other = paid_event()
    inbox.receive(other)

    first = inbox.receive(cancelled_event(order_id=order_id, was_paid=True))
    again = inbox.receive(cancelled_event(order_id=order_id, was_paid=True))

    assert (first, again) == ("handled", "handled")
    statuses = dict(Shipment.objects.values_list("order_id", "status"))
    assert statuses == {order_id: "cancelled", uuid.UUID(other.data["order_id"]): "created"}
    assert OutboxEvent.objects.exclude(type="shipment.created").count() == 0
    assert len(published()) == 2


def test_an_order_cancelled_unpaid_has_no_shipment_and_gets_none(inbox):
    v1_order, unpaid_order = uuid.uuid4(), uuid.uuid4()

    inbox.receive(cancelled_event(order_id=v1_order))
    inbox.receive(cancelled_event(order_id=unpaid_order, was_paid=False))

    assert Shipment.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_a_paid_order_cancelled_before_its_payment_was_handled_here_never_ships(inbox):
    order_id = uuid.uuid4()

    inbox.receive(cancelled_event(order_id=order_id, was_paid=True))
    late = inbox.receive(paid_event(order_id=order_id))

    assert late == "handled"
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.tracking_number) == ("cancelled", None)
    assert published() == []


def test_an_order_to_a_country_no_longer_shipped_to_waits_for_its_rate(inbox, settings):
    ShippingRate.objects.filter(country="IT").delete()
    event = paid_event(country="IT")

    state = inbox.receive(event)
    nothing_yet = Shipment.objects.count()
    why = InboxEvent.objects.get().last_error
    ShippingRate.objects.create(
        country="IT", country_name="Italy", carrier="BRT", base_cost="8.95",
        per_item_cost="1.00", free_over="100.00", estimated_days=5,
    )  # fmt: skip
    retried = inbox.retry_due(now=timezone.now() + timedelta(hours=1))

    assert (state, nothing_yet, retried) == ("retrying", 0, 1)
    assert "We do not ship to IT." in why
    assert InboxEvent.objects.get().state == "handled"
    assert Shipment.objects.get().carrier == "BRT"
    assert len(published()) == 1


def test_an_order_paid_event_without_an_address_is_a_dead_letter_and_ships_nothing(inbox):
    event = paid_event()
    del event.data["shipping_address"]

    inbox.receive(event)
    inbox.retry_due(now=timezone.now() + timedelta(hours=1))

    row = InboxEvent.objects.get()
    assert row.state == "dead"
    assert "MalformedEvent" in row.last_error
    assert Shipment.objects.count() == 0
    assert published() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_events_about_one_payment_handled_at_once_ship_it_once(inbox):
    order_id = uuid.uuid4()
    events = [paid_event(order_id=order_id) for _ in range(6)]

    states = run_concurrently(lambda n: inbox.receive(events[n]), len(events))

    assert states == ["handled"] * len(events)
    assert Shipment.objects.filter(order_id=order_id).count() == 1
    assert len(published()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_paid_order_cancelled_while_its_payment_is_handled_ends_cancelled(inbox):
    orders = [uuid.uuid4() for _ in range(5)]
    events = [
        event
        for order_id in orders
        for event in (
            paid_event(order_id=order_id),
            cancelled_event(order_id=order_id, was_paid=True),
        )
    ]

    states = run_concurrently(lambda n: inbox.receive(events[n]), len(events))

    assert states == ["handled"] * len(events)
    assert set(Shipment.objects.filter(order_id__in=orders).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert Shipment.objects.filter(order_id__in=orders).count() == len(orders)


@pytest.mark.parametrize(
    "type", ["order.confirmed", "order.placed", "order.payment_failed", "order.shipped"]
)
def test_orders_other_events_leave_no_inbox_row_and_no_dead_letter(inbox, type):
    # What each carries does not matter here: a paid order's facts (and a card token).
    data = {**paid_event().data, "payment_token": "tok_visa"}

    state = inbox.receive(Event(type=type, source="orders", data=data))

    assert state is None
    assert not InboxEvent.objects.exists()
    assert not Shipment.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_an_orders_event_of_a_type_nobody_declared_is_a_dead_letter(inbox):
    unknown = Event(type="order.misplaced", source="orders", data=paid_event().data)

    assert inbox.receive(unknown) == "dead"
