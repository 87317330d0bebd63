"""The consumer and the relay as they run (consume_events, relay_events): orders' events
arrive on the service's queue through a real broker, and the one shipment.created they
give reaches shipping's exchange, however often orders' relay sent them."""

import json
import threading
import uuid

import pytest
from django.db import transaction
from kombu import Producer, Queue

from shipping.handlers import handlers
from shipping.models import Shipment
from souk_common.events import broker
from souk_common.events.consume import QueueConsumer
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent
from souk_common.events.publish import event_publish
from souk_common.events.relay import Relay
from tests.conftest import paid_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def queues(broker_url):
    """This service's consumer, on a queue of the test's own bound to souk.orders, and a
    queue of the test's own bound to souk.shipping (where shipping publishes), both
    declared before anything is published."""
    consumer = QueueConsumer(
        url=broker_url,
        service=f"shipping-{uuid.uuid4().hex[:8]}",
        handlers=handlers,
        retry_every=0.2,
    )
    watcher = Queue(
        f"souk.shipping-watcher-{uuid.uuid4().hex[:8]}",
        broker.exchange("shipping"),
        routing_key="",
        durable=False,
    )
    with broker.connection(broker_url) as connection:
        consumer.declare(connection)
        watcher(connection.default_channel).declare()
    yield consumer, watcher
    with broker.connection(broker_url) as connection:
        for queue in [*consumer.queues, watcher]:
            queue(connection.default_channel).delete()


def relay(source, broker_url):
    relay = Relay(url=broker_url, source=source, poll_seconds=0.05, retention_seconds=60)
    with broker.connection(broker_url) as connection:
        relay.send_pending(connection)


def test_a_paid_order_relayed_by_orders_twice_and_again_ships_once_and_says_so_once(
    queues, broker_url, settings
):
    consumer, watcher = queues
    order_id = uuid.uuid4()
    paid, paid_again = paid_event(order_id=order_id), paid_event(order_id=order_id)
    shipping = settings.SOUK
    settings.SOUK = {**shipping, "EVENTS_SOURCE": "orders"}  # publish as orders does
    with transaction.atomic():
        sent = [event_publish(type=e.type, data=e.data) for e in (paid, paid_again)]
    relay("orders", broker_url)
    with broker.connection(broker_url) as connection:  # orders' relay sends one again
        Producer(connection.default_channel).publish(
            sent[0].to_json(), exchange=broker.exchange("orders"), routing_key="",
            content_type="application/json",
        )  # fmt: skip
    settings.SOUK = shipping

    with broker.connection(broker_url) as connection:
        consumer.consume(connection, threading.Event(), until_idle=True)
    relay("shipping", broker_url)
    announced = []
    with broker.connection(broker_url) as connection:
        while (message := watcher(connection.default_channel).get(no_ack=True)) is not None:
            envelope = json.loads(message.body)
            if envelope["data"].get("order_id") == str(order_id):
                announced.append(envelope)

    shipment = Shipment.objects.get(order_id=order_id)
    assert shipment.status == "created"
    assert [(e["type"], e["source"]) for e in announced] == [("shipment.created", "shipping")]
    assert announced[0]["data"]["tracking_number"] == shipment.tracking_number


def test_an_order_placed_relayed_by_orders_is_acknowledged_and_leaves_no_inbox_row(
    queues, broker_url, settings
):
    consumer, _ = queues
    paid = paid_event()
    placed = Event(
        type="order.placed",
        source="orders",
        data={**paid.data, "status": "awaiting_payment", "payment_token": "tok_mastercard"},
    )
    shipping = settings.SOUK
    settings.SOUK = {**shipping, "EVENTS_SOURCE": "orders"}  # publish as orders does
    with transaction.atomic():
        event_publish(type=placed.type, data=placed.data)
        sent = event_publish(type=paid.type, data=paid.data)
    relay("orders", broker_url)
    settings.SOUK = shipping

    with broker.connection(broker_url) as connection:
        consumer.consume(connection, threading.Event(), until_idle=True)
        (queue,) = consumer.queues
        left = queue(connection.default_channel).get(no_ack=True)

    assert left is None  # both acknowledged
    assert list(InboxEvent.objects.values_list("event_id", "state")) == [(sent.id, "handled")]
    assert Shipment.objects.get().order_id == uuid.UUID(paid.data["order_id"])
