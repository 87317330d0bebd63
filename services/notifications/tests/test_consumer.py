"""The consumer as it runs (consume_events): events the users and orders relays send to
their exchanges arrive on the service's queue, through a real broker, and are mailed
once however often they are delivered."""

import threading
import time
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from kombu import Producer

from notifications.handlers import handlers
from notifications.models import SentEmail
from souk_common.events import broker
from souk_common.events.consume import QueueConsumer
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent
from souk_common.events.publish import event_publish
from souk_common.events.relay import Relay
from tests.conftest import (
    checkout_cancelled_event,
    order_event,
    paid_event,
    payment_failed_event,
    shipped_event,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer(broker_url):
    """This service's consumer, on a queue of the test's own bound to the real exchanges
    (souk.users, souk.orders), declared before anything is published."""
    consumer = QueueConsumer(
        url=broker_url,
        service=f"notifications-{uuid.uuid4().hex[:8]}",
        handlers=handlers,
        retry_every=0.2,
    )
    with broker.connection(broker_url) as connection:
        consumer.declare(connection)
    yield consumer
    with broker.connection(broker_url) as connection:
        for queue in consumer.queues:
            queue(connection.default_channel).delete()


def relay_as(source, broker_url, settings, *events):
    """Publish ``(type, data)`` events as ``source``'s outbox does, and relay them."""
    settings.SOUK = {**settings.SOUK, "EVENTS_SOURCE": source}
    with transaction.atomic():
        published = [event_publish(type=type, data=data) for type, data in events]
    relay = Relay(url=broker_url, source=source, poll_seconds=0.05, retention_seconds=60)
    with broker.connection(broker_url) as connection:
        relay.send_pending(connection)
    return published


def consume(consumer):
    with broker.connection(consumer.url) as connection:
        consumer.consume(connection, threading.Event(), until_idle=True)


def test_events_relayed_by_users_and_orders_are_each_mailed_once(
    consumer, broker_url, settings, smtp, users_service
):
    confirmed = order_event("order.confirmed", user_id=3)
    [registered] = relay_as(
        "users", broker_url, settings, ("user.registered", {"user_id": 4, "username": "user4"})
    )
    [order] = relay_as("orders", broker_url, settings, (confirmed.type, confirmed.data))
    with broker.connection(broker_url) as connection:  # the orders relay sends it again
        Producer(connection.default_channel).publish(
            order.to_json(), exchange=broker.exchange("orders"), routing_key="",
            content_type="application/json",
        )  # fmt: skip

    consume(consumer)

    assert sorted((mail.to, mail.subject) for mail in smtp.mail) == [
        ("user3@example.com", f"Your Souk order {confirmed.data['order_id']} is confirmed"),
        ("user4@example.com", "Welcome to Souk, user4"),
    ]
    assert SentEmail.objects.count() == 2
    assert set(InboxEvent.objects.values_list("event_id", "state")) == {
        (registered.id, "handled"),
        (order.id, "handled"),
    }


def test_a_checkout_orders_events_relayed_by_orders_are_each_mailed_once(
    consumer, broker_url, settings, smtp, users_service
):
    paid = paid_event(user_id=3)
    order_id = paid.data["order_id"]
    events = [
        paid,
        shipped_event(user_id=3, order_id=order_id),
        payment_failed_event(user_id=4),
        checkout_cancelled_event(user_id=5, was_paid=True),
    ]
    published = relay_as("orders", broker_url, settings, *((e.type, e.data) for e in events))
    with broker.connection(broker_url) as connection:  # the orders relay sends them again
        for event in published:
            Producer(connection.default_channel).publish(
                event.to_json(), exchange=broker.exchange("orders"), routing_key="",
                content_type="application/json",
            )  # fmt: skip

    consume(consumer)

    assert sorted((mail.to, mail.subject) for mail in smtp.mail) == [
        ("user3@example.com", f"Your Souk order {order_id} has shipped"),
        ("user3@example.com", f"Your Souk order {order_id} is paid"),
        ("user4@example.com", f"Payment for your Souk order {events[2].data['order_id']} failed"),
        ("user5@example.com", f"Your Souk order {events[3].data['order_id']} is cancelled"),
    ]
    assert SentEmail.objects.count() == 4
    assert set(InboxEvent.objects.values_list("state", flat=True)) == {"handled"}


def test_mail_the_server_refused_is_sent_by_the_consumer_once_the_server_is_back(
    consumer, broker_url, settings, smtp, users_service
):
    settings.SOUK = {**settings.SOUK, "EVENTS_RETRY_SECONDS": 1.0}
    confirmed = order_event(user_id=3)
    smtp.stop()
    [order] = relay_as("orders", broker_url, settings, (confirmed.type, confirmed.data))

    consume(consumer)  # until idle: the retry is not due yet
    waiting = InboxEvent.objects.get(event_id=order.id)
    smtp.start()
    time.sleep(max(0.0, (waiting.next_attempt_at - timezone.now()).total_seconds()))
    consume(consumer)

    assert (waiting.state, waiting.attempts) == ("retrying", 1)
    assert [mail.to for mail in smtp.mail] == ["user3@example.com"]
    assert InboxEvent.objects.get(event_id=order.id).state == "handled"


def test_an_order_placed_relayed_by_orders_is_acknowledged_and_leaves_no_inbox_row(
    consumer, broker_url, settings, smtp, users_service
):
    paid = paid_event(user_id=3)
    placed = Event(
        type="order.placed",
        source="orders",
        data={**paid.data, "status": "awaiting_payment", "payment_token": "tok_mastercard"},
    )
    _, sent = relay_as("orders", broker_url, settings, (placed.type, placed.data),
                       (paid.type, paid.data))  # fmt: skip

    consume(consumer)
    with broker.connection(broker_url) as connection:
        queue = consumer.queues[0]  # one queue, bound to souk.users and souk.orders
        left = queue(connection.default_channel).get(no_ack=True)

    assert left is None  # both acknowledged
    assert list(InboxEvent.objects.values_list("event_id", "state")) == [(sent.id, "handled")]
    assert [mail.to for mail in smtp.mail] == ["user3@example.com"]  # order.paid's alone
