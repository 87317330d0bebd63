"""The consumer as it runs (consume_events): payments' and shipping's events, published to
their exchanges, arrive on the orders queue through a real broker and move a checkout on
once, however often they are delivered."""

import threading
import uuid

import pytest
from kombu import Producer

from orders.handlers import handlers
from orders.models import Order
from souk_common.events import broker
from souk_common.events.consume import QueueConsumer
from souk_common.events.models import OutboxEvent
from tests.conftest import checkout, payment_succeeded, shipment_created

pytestmark = pytest.mark.django_db


def test_the_orders_queue_takes_payments_and_shippings_events():
    assert handlers.sources == {"payments", "shipping"}


@pytest.fixture
def consumer(broker_url):
    """This service's consumer, on a queue of the test's own bound to the real exchanges
    (souk.payments, souk.shipping), declared before anything is published."""
    consumer = QueueConsumer(
        url=broker_url, service=f"orders-{uuid.uuid4().hex[:8]}", handlers=handlers
    )
    with broker.connection(broker_url) as connection:
        consumer.declare(connection)
    yield consumer
    with broker.connection(broker_url) as connection:
        for queue in consumer.queues:
            queue(connection.default_channel).delete()


def publish(broker_url, *events):
    """Send events to their sources' exchanges, as those services' relays do."""
    with broker.connection(broker_url) as connection:
        producer = Producer(connection.default_channel)
        for event in events:
            producer.publish(
                event.to_json(),
                exchange=broker.exchange(event.source),
                routing_key="",
                content_type="application/json",
            )


def test_a_checkout_is_paid_and_shipped_once_whatever_is_delivered_twice(
    consumer, broker_url, alice, shop, cart
):
    products, _ = shop
    cart.fill(1, (1, 2))
    order = checkout(alice).json()
    paid, shipped = payment_succeeded(order), shipment_created(order)

    publish(broker_url, paid, paid, shipped, shipped)
    with broker.connection(broker_url) as connection:
        consumer.consume(connection, threading.Event(), until_idle=True)

    assert consumer.received == 4
    assert Order.objects.get().status == "shipped"
    assert products.count("commit") == 1
    published = OutboxEvent.objects.values_list("type", flat=True).order_by("id")
    assert list(published) == ["order.placed", "order.paid", "order.shipped"]
