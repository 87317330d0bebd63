"""The consumer as it runs (consume_events): order events the orders relay sends to its
exchange arrive on payments' queue through a real broker, and the order is charged once
however often they are delivered; payments' own relay sends the outcome on."""

import json
import threading
import uuid

import pytest
from django.db import transaction
from kombu import Consumer, Producer, Queue

from payments.handlers import handlers
from payments.models import Payment
from souk_common.events import broker
from souk_common.events.consume import QueueConsumer
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent
from souk_common.events.publish import event_publish
from souk_common.events.relay import Relay
from tests.conftest import cancelled_event, placed_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer(broker_url):
    """This service's consumer, on a queue of the test's own bound to souk.orders,
    declared before anything is published."""
    consumer = QueueConsumer(
        url=broker_url, service=f"payments-{uuid.uuid4().hex[:8]}", handlers=handlers
    )
    with broker.connection(broker_url) as connection:
        consumer.declare(connection)
    yield consumer
    with broker.connection(broker_url) as connection:
        for queue in consumer.queues:
            queue(connection.default_channel).delete()


def relay_as(source, broker_url, settings, *events):
    """Publish events as ``source``'s outbox does, and relay them; then back to payments."""
    settings.SOUK = {**settings.SOUK, "EVENTS_SOURCE": source}
    with transaction.atomic():
        published = [event_publish(type=event.type, data=event.data) for event in events]
    relay(source, broker_url)
    settings.SOUK = {**settings.SOUK, "EVENTS_SOURCE": "payments"}
    return published


def relay(source, broker_url):
    relay = Relay(url=broker_url, source=source, poll_seconds=0.05, retention_seconds=60)
    with broker.connection(broker_url) as connection:
        relay.send_pending(connection)


def consume(consumer):
    with broker.connection(consumer.url) as connection:
        consumer.consume(connection, threading.Event(), until_idle=True)


def test_an_order_placed_twice_through_the_broker_is_charged_once_and_its_outcome_sent(
    consumer, broker_url, settings, provider
):
    order_id = uuid.uuid4()
    placed = placed_event(order_id=order_id)
    [sent] = relay_as("orders", broker_url, settings, placed)
    with broker.connection(broker_url) as connection:  # the orders relay sends it again
        Producer(connection.default_channel).publish(
            sent.to_json(), exchange=broker.exchange("orders"), routing_key="",
            content_type="application/json",
        )  # fmt: skip
    relay_as("orders", broker_url, settings, cancelled_event(order_id=order_id, was_paid=True))
    paid = Event(type="order.paid", source="orders", data={"order_id": str(order_id)})
    relay_as("orders", broker_url, settings, paid)  # none of payments' business
    listener = Queue(f"listener-{uuid.uuid4().hex[:8]}", broker.exchange("payments"))
    with broker.connection(broker_url) as connection:
        listener(connection.default_channel).declare()

    consume(consumer)
    relay("payments", broker_url)

    assert len(provider.charges()) == len(provider.refunds()) == 1
    assert Payment.objects.get().status == "refunded"
    # order.paid acknowledged and stored nowhere; the copy of order.placed has no token.
    assert sorted(InboxEvent.objects.values_list("type", "state")) == [
        ("order.cancelled", "handled"),
        ("order.placed", "handled"),
    ]
    assert InboxEvent.objects.get(type="order.placed").envelope["data"]["payment_token"] == (
        "[redacted]"
    )
    received = []
    with broker.connection(broker_url) as connection:
        channel = connection.default_channel
        with Consumer(channel, queues=[listener], on_message=received.append):
            for _ in range(2):
                connection.drain_events(timeout=5)
        listener(channel).delete()
    envelopes = [json.loads(message.body) for message in received]
    assert [(e["type"], e["source"]) for e in envelopes] == [
        ("payment.succeeded", "payments"),
        ("payment.refunded", "payments"),
    ]
    assert all(e["data"]["order_id"] == str(order_id) for e in envelopes)
    assert "tok_visa" not in json.dumps(envelopes)
