"""souk_common.events through a real broker (embedded and RabbitMQ): the outbox, the
relay, and a consumer whose inbox, retries and dead letters keep every event's effect
to exactly one."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from kombu import Producer

from souk_common import sql
from souk_common.events import broker
from souk_common.events.consume import (
    MALFORMED,
    Handlers,
    Inbox,
    QueueConsumer,
    dead_letter_replay,
    inbox_secrets_redact,
)
from souk_common.events.envelope import REDACTED, Event
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.events.publish import event_publish, event_publish_if
from souk_common.events.relay import Relay
from souk_common.events.stats import event_stats
from souk_common.heartbeat import Heartbeat
from souk_common.middleware import RequestIdMiddleware
from souk_common.test_servers import TcpProxy
from souk_common.testing import broker_error, rabbitmq_url
from tests.eventsapp.models import Receipt

pytestmark = pytest.mark.django_db


class Shop:
    """A publisher (``shop-<n>``) and a consumer (``mail-<n>``) of its events, on one broker."""

    def __init__(self, url: str, settings) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.url = url
        self.source, self.service = f"shop-{suffix}", f"mail-{suffix}"
        settings.SOUK = {
            **settings.SOUK,
            "EVENTS_SOURCE": self.source,
            "BROKER_URL": url,
            "EVENTS_MAX_ATTEMPTS": 3,
            "EVENTS_RETRY_SECONDS": 0.0,  # a retry is due at once: no test waits for backoff
        }
        self.handlers = Handlers()
        self.failures: dict[str, int] = {}  # how many more times a note's handler fails
        self.handlers.on("thing.happened", source=self.source)(self.handle)
        self.relay = Relay(url=url, source=self.source, poll_seconds=0.05, retention_seconds=60)
        self.consumer = QueueConsumer(
            url=url, service=self.service, handlers=self.handlers, retry_every=0.2
        )
        with broker.connection(url) as connection:
            self.consumer.declare(connection)  # bound before anything is published

    def handle(self, event: Event) -> None:
        note = event.data["note"]
        Receipt.objects.create(event_id=event.id, note=note)  # written, then maybe undone
        if note == "always fails" or self.failures.get(note, 0) > 0:
            self.failures[note] = self.failures.get(note, 0) - 1
            raise RuntimeError(f"the handler of {note!r} failed")

    def relay_and_consume(self) -> None:
        with broker.connection(self.url) as connection:
            self.relay.send_pending(connection)
            self.consumer.consume(connection, threading.Event(), until_idle=True)

    def publish_raw(self, *bodies: bytes) -> None:
        """Messages put on the exchange directly, as a relay that sent twice would."""
        with broker.connection(self.url) as connection:
            producer = Producer(connection.default_channel, exchange=broker.exchange(self.source))
            producer.maybe_declare(broker.exchange(self.source))
            for body in bodies:
                producer.publish(body, content_type="application/json", routing_key="")

    def consume(self) -> None:
        with broker.connection(self.url) as connection:
            self.consumer.consume(connection, threading.Event(), until_idle=True)

    def remove(self) -> None:
        with broker.connection(self.url) as connection:
            channel = connection.default_channel
            for queue in self.consumer.queues:
                queue(channel).delete()
            broker.exchange(self.source)(channel).delete()


@pytest.fixture
def shop(broker_url, settings):
    shop = Shop(broker_url, settings)
    yield shop
    shop.remove()


def notes() -> list[str]:
    return sorted(Receipt.objects.values_list("note", flat=True))


def test_a_committed_event_is_sent_in_its_envelope_and_handled_once(shop):
    with transaction.atomic():
        event = event_publish(type="thing.happened", data={"note": "hello"})

    shop.relay_and_consume()

    assert notes() == ["hello"]
    row = InboxEvent.objects.get()
    assert (row.event_id, row.state, row.attempts) == (event.id, "handled", 1)
    assert set(row.envelope) == {
        "id", "type", "version", "occurred_at", "source", "request_id", "traceparent", "data",
    }  # fmt: skip
    assert row.envelope["source"] == shop.source
    assert row.envelope["traceparent"].startswith("00-")
    assert OutboxEvent.objects.get().sent_at is not None


def test_an_event_carries_the_request_id_and_trace_context_of_the_request_that_made_it(shop):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    def view(request):
        event_publish(type="thing.happened", data={"note": "from a request"})
        return HttpResponse()

    RequestIdMiddleware(view)(
        RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42", HTTP_TRACEPARENT=traceparent)
    )

    envelope = OutboxEvent.objects.get().envelope
    assert (envelope["request_id"], envelope["traceparent"]) == ("req-42", traceparent)


def test_an_event_published_in_a_transaction_that_rolls_back_is_never_sent(shop):
    def change_that_fails():
        with transaction.atomic():
            event_publish(type="thing.happened", data={"note": "rolled back"})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with transaction.atomic():
        event_publish(type="thing.happened", data={"note": "committed"})

    shop.relay_and_consume()

    assert notes() == ["committed"]
    assert OutboxEvent.objects.count() == 1


def test_in_the_callers_transaction_publishing_is_one_insert_and_no_savepoint():
    with transaction.atomic(), CaptureQueriesContext(connections["default"]) as queries:
        event_publish(type="thing.happened", data={"note": "joined"})

    assert [query["sql"].split(" ", 1)[0] for query in queries.captured_queries] == ["INSERT"]


def finalise(note: str) -> sql.Statement:
    """A conditional change: the receipt noted ``note`` becomes final."""
    return sql.update(Receipt.objects.filter(note=note), note=f"{note}, final")


def test_a_change_takes_its_event_along_and_the_event_is_sent_and_handled_once(shop):
    Receipt.objects.create(event_id=uuid.uuid4(), note="draft")

    stored = event_publish_if(finalise("draft"), type="thing.happened", data={"note": "final"})
    assert sql.execute_together(stored) == 1
    shop.relay_and_consume()

    assert notes() == ["draft, final", "final"]
    row = InboxEvent.objects.get()
    assert (row.type, row.state, row.envelope["source"]) == (
        "thing.happened",
        "handled",
        shop.source,
    )
    assert row.envelope["data"] == {"note": "final"}
    assert row.envelope["traceparent"].startswith("00-")


def test_a_change_that_changes_nothing_publishes_nothing():
    stored = event_publish_if(finalise("missing"), type="thing.happened", data={"note": "no"})

    assert sql.execute_together(stored) == 0
    assert not OutboxEvent.objects.exists()


@pytest.mark.postgres
def test_on_postgresql_a_change_and_its_event_are_one_round_trip():
    Receipt.objects.create(event_id=uuid.uuid4(), note="draft")

    with CaptureQueriesContext(connections["default"]) as queries:
        sql.execute_together(
            event_publish_if(finalise("draft"), type="thing.happened", data={"note": "final"})
        )

    assert len(queries) == 1
    event = OutboxEvent.objects.get()
    assert (event.type, event.version, event.sent_at) == ("thing.happened", 1, None)
    assert event.envelope["id"] == str(event.event_id)
    assert event.envelope["occurred_at"] == event.created_at.isoformat()


def test_the_relay_sends_in_order_of_creation(shop):
    for n in range(5):
        event_publish(type="thing.happened", data={"note": f"event {n}"})

    shop.relay_and_consume()

    received = Receipt.objects.order_by("id").values_list("note", flat=True)
    assert list(received) == [f"event {n}" for n in range(5)]


def test_a_duplicate_delivery_has_one_effect(shop):
    body = Event(type="thing.happened", source=shop.source, data={"note": "once"}).to_json()

    shop.publish_raw(body, body, body)
    shop.consume()

    assert notes() == ["once"]
    assert InboxEvent.objects.get().state == "handled"


def test_a_handler_failing_twice_then_succeeding_has_one_effect(shop):
    shop.failures["flaky"] = 2
    event_publish(type="thing.happened", data={"note": "flaky"})

    shop.relay_and_consume()

    assert notes() == ["flaky"]  # the two failed attempts' writes rolled back
    row = InboxEvent.objects.get()
    assert (row.state, row.attempts) == ("handled", 3)
    assert "the handler of 'flaky' failed" in row.last_error


def test_a_handler_that_always_fails_is_a_dead_letter_after_n_attempts_and_the_next_goes_on(shop):
    poison = event_publish(type="thing.happened", data={"note": "always fails"})
    event_publish(type="thing.happened", data={"note": "behind it"})

    shop.relay_and_consume()

    assert notes() == ["behind it"]
    dead = InboxEvent.objects.get(event_id=poison.id)
    assert (dead.state, dead.attempts) == ("dead", 3)
    stats = event_stats()
    assert (stats.handled, stats.dead_letters, stats.failed_attempts) == (1, 1, 3)


def test_a_replayed_dead_letter_is_handled(shop, capsys):
    shop.failures["fails 3 times"] = 3
    poison = event_publish(type="thing.happened", data={"note": "fails 3 times"})
    shop.relay_and_consume()
    assert InboxEvent.objects.get(event_id=poison.id).state == "dead"

    call_command("dead_letters")
    listed = capsys.readouterr().out
    call_command("dead_letters", "--replay", str(poison.id))
    shop.consume()

    assert str(poison.id) in listed
    assert "1 dead letters" in listed
    assert notes() == ["fails 3 times"]
    assert InboxEvent.objects.get(event_id=poison.id).state == "handled"


def test_unknown_types_and_malformed_messages_are_dead_letters_and_the_consumer_goes_on(shop):
    unknown = Event(type="thing.vanished", source=shop.source, data={"note": "?"})
    newer = Event(type="thing.happened", source=shop.source, version=2, data={"note": "v2"})
    fine = Event(type="thing.happened", source=shop.source, data={"note": "fine"})

    shop.publish_raw(
        b"not json at all",
        json.dumps({"id": "not a uuid"}).encode(),
        unknown.to_json(),
        newer.to_json(),
        fine.to_json(),
    )
    shop.consume()

    assert notes() == ["fine"]
    dead = InboxEvent.objects.filter(state="dead")
    assert sorted(dead.values_list("type", flat=True)) == [
        MALFORMED, MALFORMED, "thing.happened", "thing.vanished",
    ]  # fmt: skip
    assert dead.get(type="thing.happened").event_id == newer.id


def test_sent_events_are_purged_after_the_retention_period(shop):
    event_publish(type="thing.happened", data={"note": "old"})
    shop.relay_and_consume()

    assert shop.relay.purge() == 0  # sent a moment ago: kept
    shop.relay.retention = shop.relay.retention * 0
    assert shop.relay.purge() == 1
    assert not OutboxEvent.objects.exists()


def test_events_status_prints_the_backlog_and_the_inbox_as_json(shop, capsys):
    event_publish(type="thing.happened", data={"note": "waiting"})

    call_command("events_status")

    status = json.loads(capsys.readouterr().out)
    assert status["outbox_waiting"] == 1
    assert (status["handled"], status["retrying"], status["dead_letters"]) == (0, 0, 0)


def test_the_backlog_is_the_unsent_events_and_the_age_of_the_oldest(shop):
    event_publish(type="thing.happened", data={"note": "waiting"})
    event_publish(type="thing.happened", data={"note": "waiting too"})

    waiting = event_stats()
    shop.relay_and_consume()

    assert waiting.outbox_waiting == 2
    assert waiting.outbox_oldest_age_seconds > 0
    assert (event_stats().outbox_waiting, event_stats().outbox_oldest_age_seconds) == (0, 0.0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_committed_event_wakes_the_relay_without_waiting_for_its_look(shop):
    """The outbox's trigger notifies the relay as the event commits: with a look at the
    outbox only every 30 s, each event is still sent (and handled) within seconds."""
    shop.relay.poll_seconds = 30.0
    stop = threading.Event()

    def run(loop):
        try:
            loop(stop)
        finally:
            connections.close_all()

    workers = [
        threading.Thread(target=run, args=(shop.relay.run,)),
        threading.Thread(target=run, args=(shop.consumer.run,)),
    ]
    for worker in workers:
        worker.start()
    try:
        for n in range(3):
            time.sleep(1.5)  # the relay is waiting, well inside its 30 s
            event_publish(type="thing.happened", data={"note": f"event {n}"})
            deadline = time.monotonic() + 10
            while Receipt.objects.count() < n + 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert Receipt.objects.count() == n + 1, f"event {n} waited for the relay's look"
    finally:
        stop.set()
        event_publish(type="thing.happened", data={"note": "last"})  # wakes it to stop
        for worker in workers:
            worker.join(10)
    assert not any(worker.is_alive() for worker in workers)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("loop", ["relay", "consumer"])
def test_a_loop_hung_on_its_database_stops_its_heartbeat_and_beats_again_once_free(
    shop, tmp_path, loop
):
    """The heartbeat is the loop's own: while the outbox (the inbox) is locked, the relay
    (the consumer) waits in its query and touches the file no more; it goes round, and
    touches it again, once the lock goes. A probe reads the file's age (deploy/k8s)."""
    beating = tmp_path / "heartbeat"
    worker = getattr(shop, loop)
    worker.heartbeat = Heartbeat(beating, every=0.1)
    table = (OutboxEvent if loop == "relay" else InboxEvent)._meta.db_table
    stop = threading.Event()

    def run():
        try:
            worker.run(stop)
        finally:
            connections.close_all()

    def touched_after(mtime: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if beating.exists() and beating.stat().st_mtime_ns > mtime:
                return True
            time.sleep(0.05)
        return False

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert touched_after(0)
        assert touched_after(beating.stat().st_mtime_ns)  # and again: it goes round
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            time.sleep(1.5)  # it reaches its query, and waits
            hung = beating.stat().st_mtime_ns
            assert not touched_after(hung, timeout=2)
        assert touched_after(hung)
    finally:
        stop.set()
        if loop == "relay":
            event_publish(type="thing.happened", data={"note": "wakes it to stop"})
        thread.join(15)
    assert not thread.is_alive()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_broker_connection_cut_mid_traffic_loses_nothing_and_doubles_nothing(settings):
    """The relay and the consumer run on threads, through a proxy to RabbitMQ that is cut
    for two seconds while events are published: every event is handled, once."""
    url = rabbitmq_url()
    if broker_error(url) is not None:
        pytest.skip(f"RabbitMQ at {url} does not answer")
    target = urlsplit(url)
    with TcpProxy(target.hostname, target.port or 5672) as proxy:
        proxied = url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}")
        shop = Shop(proxied, settings)
        stop = threading.Event()

        def run(loop):
            try:
                loop(stop)
            finally:
                connections.close_all()  # this thread's database connection

        workers = [
            threading.Thread(target=run, args=(shop.relay.run,)),
            threading.Thread(target=run, args=(shop.consumer.run,)),
        ]
        shop.relay.max_backoff_seconds = shop.consumer.max_backoff_seconds = 0.5
        for worker in workers:
            worker.start()
        try:
            for n in range(60):
                event_publish(type="thing.happened", data={"note": f"event {n}"})
                if n == 20:
                    proxy.cut()
                if n == 40:
                    time.sleep(2)
                    proxy.restore()
                time.sleep(0.02)
            deadline = time.monotonic() + 30
            while Receipt.objects.count() < 60 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for worker in workers:
                worker.join(10)
            shop.remove()

    assert sorted(notes()) == sorted(f"event {n}" for n in range(60))
    assert not OutboxEvent.objects.filter(sent_at=None).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_relays_running_side_by_side_never_send_one_event_twice(broker_url, settings):
    shop = Shop(broker_url, settings)
    events = [event_publish(type="thing.happened", data={"note": f"event {n}"}) for n in range(300)]
    relays = [
        Relay(url=broker_url, source=shop.source, poll_seconds=0.05, retention_seconds=60,
              batch_size=10)
        for _ in range(3)
    ]  # fmt: skip

    def send(relay):
        try:
            with broker.connection(broker_url) as connection:
                relay.send_pending(connection)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=send, args=(relay,)) for relay in relays]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        received = []
        with broker.connection(broker_url) as connection:
            (queue,) = shop.consumer.queues
            while (message := queue(connection.default_channel).get(no_ack=True)) is not None:
                received.append(json.loads(message.body)["id"])
    finally:
        shop.remove()

    assert sorted(received) == sorted(str(event.id) for event in events)
    assert sum(relay.sent for relay in relays) == 300
    assert all(relay.sent for relay in relays)  # they shared the work


# Types a service does not consume, and secrets kept no longer than needed.


def queue_is_empty(shop) -> bool:
    """Whether every message on the consumer's queue was acknowledged."""
    with broker.connection(shop.url) as connection:
        (queue,) = shop.consumer.queues
        return queue(connection.default_channel).get(no_ack=True) is None


def test_ignored_types_are_acknowledged_and_stored_nowhere_while_the_next_is_handled(shop, caplog):
    caplog.set_level(logging.DEBUG)
    shop.handlers.ignore("thing.noticed", "thing.seen", source=shop.source)
    noticed = Event(type="thing.noticed", source=shop.source, data={"note": "not for us"})
    seen = Event(type="thing.seen", source=shop.source, version=7, data={"note": "nor this"})
    fine = Event(type="thing.happened", source=shop.source, data={"note": "fine"})

    shop.publish_raw(noticed.to_json(), seen.to_json(), fine.to_json())
    shop.consume()

    assert notes() == ["fine"]
    assert list(InboxEvent.objects.values_list("event_id", "state")) == [(fine.id, "handled")]
    assert queue_is_empty(shop)  # all three acknowledged
    assert "not for us" not in caplog.text  # a debug line at most: the type and the id
    assert all(record.levelno <= logging.DEBUG for record in caplog.records
               if str(noticed.id) in record.getMessage())  # fmt: skip


def test_a_stream_of_events_costs_no_transaction_per_event_for_due_retries(shop):
    """Ignored events (a fanout exchange brings a consumer every event of a source it
    listens to) cost no query each: due retries are looked for when the queue is idle,
    and every retry_every while it is not, not after every message."""
    shop.handlers.ignore("thing.noticed", source=shop.source)
    shop.publish_raw(
        *(Event(type="thing.noticed", source=shop.source, data={}).to_json() for _ in range(40))
    )

    with CaptureQueriesContext(connections["default"]) as queries:
        shop.consume()

    assert queue_is_empty(shop)
    assert len(queries) < 20, [query["sql"] for query in queries]


def test_a_type_neither_handled_nor_ignored_or_ignored_from_another_source_is_a_dead_letter(shop):
    shop.handlers.ignore("thing.noticed", source=shop.source)
    unknown = Event(type="thing.noticd", source=shop.source, data={"note": "a typo"})
    elsewhere = Event(type="thing.noticed", source="elsewhere", data={"note": "elsewhere"})

    shop.publish_raw(unknown.to_json(), elsewhere.to_json())
    shop.consume()

    dead = InboxEvent.objects.filter(state="dead")
    assert sorted(dead.values_list("event_id", flat=True)) == sorted([unknown.id, elsewhere.id])
    assert queue_is_empty(shop)


def test_a_dead_letter_of_a_type_ignored_since_leaves_nothing_once_replayed(shop):
    before = Event(type="thing.noticed", source=shop.source, data={"note": "before"})
    shop.publish_raw(before.to_json())
    shop.consume()
    assert InboxEvent.objects.get().state == "dead"

    shop.handlers.ignore("thing.noticed", source=shop.source)
    assert dead_letter_replay(before.id)
    shop.consume()

    assert not InboxEvent.objects.exists()


def test_a_type_is_handled_or_ignored_never_both():
    handlers = Handlers()
    handlers.on("thing.happened", source="shop")(lambda event: None)
    handlers.ignore("thing.noticed", source="shop")

    with pytest.raises(ValueError, match="has a handler"):
        handlers.ignore("thing.happened", source="shop")
    with pytest.raises(ValueError, match="ignored already"):
        handlers.on("thing.noticed", source="shop")(lambda event: None)
    assert handlers.sources == {"shop"}


class Cards:
    """``card.charged`` handled by ``shop`` with its ``card`` a secret: each receipt notes
    the card the handler was given and what the inbox's row held for it meanwhile."""

    def __init__(self, shop) -> None:
        self.failures = 0  # how many more attempts fail
        shop.handlers.on("card.charged", source=shop.source, secrets=("card",))(self.handle)

    def handle(self, event: Event) -> None:
        stored = InboxEvent.objects.get(event_id=event.id).envelope["data"]["card"]
        Receipt.objects.create(event_id=event.id, note=f"{event.data['card']}, row {stored}")
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the charge failed")


def charged(shop, card="4242 4242") -> Event:
    return Event(type="card.charged", source=shop.source, data={"order": 7, "card": card})


def stored_data(event: Event) -> dict:
    return InboxEvent.objects.get(event_id=event.id).envelope["data"]


def test_a_secret_is_sent_whole_and_kept_only_until_the_relay_and_the_handler_are_done(shop):
    Cards(shop)
    with transaction.atomic():
        event = event_publish(
            type="card.charged", data={"order": 7, "card": "4242 4242"}, secrets=("card",)
        )
    waiting = OutboxEvent.objects.get().envelope["data"]

    shop.relay_and_consume()

    assert waiting == {"order": 7, "card": "4242 4242"}  # the relay needs it
    sent = OutboxEvent.objects.get()
    assert sent.sent_at is not None
    assert sent.envelope["data"] == {"order": 7, "card": REDACTED}
    # The handler got it whole, through the broker; the row recording it handled never held it.
    assert notes() == [f"4242 4242, row {REDACTED}"]
    assert stored_data(event) == {"order": 7, "card": REDACTED}


def test_a_failed_event_keeps_its_secret_for_the_retry_and_loses_it_once_handled(shop):
    cards = Cards(shop)
    cards.failures = 1
    inbox = Inbox(shop.handlers)
    event = charged(shop)

    assert inbox.receive(event) == "retrying"
    waiting = stored_data(event)
    inbox.retry_due()

    assert waiting["card"] == "4242 4242"
    assert InboxEvent.objects.get(event_id=event.id).state == "handled"
    assert stored_data(event) == {"order": 7, "card": REDACTED}
    assert notes() == ["4242 4242, row 4242 4242"]  # the retry was given it


def test_due_retries_beat_the_heartbeat_before_each_try(shop):
    """A batch of retries whose handlers each wait out a timeout (a mail server that hangs)
    is a loop going round, slowly: the liveness probe must not restart it."""
    cards = Cards(shop)
    cards.failures = 3
    inbox = Inbox(shop.handlers)
    for card in ("1", "2", "3"):
        inbox.receive(charged(shop, card))
    beats: list[int] = []

    tried = inbox.retry_due(
        beat=lambda: beats.append(InboxEvent.objects.filter(state="handled").count())
    )

    assert tried == 3
    assert beats[:3] == [0, 1, 2]  # one before each try


def test_a_dead_letter_keeps_its_secret_to_be_replayed_and_the_handled_replay_drops_it(shop):
    cards = Cards(shop)
    cards.failures = 3
    inbox = Inbox(shop.handlers)
    event = charged(shop)
    inbox.receive(event)
    inbox.retry_due()
    inbox.retry_due()
    dead = stored_data(event)

    dead_letter_replay(event.id)
    inbox.retry_due()

    assert dead["card"] == "4242 4242"
    assert InboxEvent.objects.get(event_id=event.id).state == "handled"
    assert stored_data(event)["card"] == REDACTED
    assert notes() == ["4242 4242, row 4242 4242"]


def test_a_service_redacts_the_copies_it_will_never_need_whole_again(shop):
    cards = Cards(shop)
    cards.failures = 2
    inbox = Inbox(shop.handlers)
    waiting, other = charged(shop), charged(shop, card="5555 4444")
    inbox.receive(waiting)
    inbox.receive(other)

    redacted = inbox_secrets_redact(
        InboxEvent.objects.filter(event_id=waiting.id), secrets=("card",)
    )
    again = inbox_secrets_redact(InboxEvent.objects.filter(event_id=waiting.id), secrets=["card"])

    assert (redacted, again) == (1, 0)
    assert stored_data(waiting) == {"order": 7, "card": REDACTED}
    assert stored_data(other)["card"] == "5555 4444"
    assert set(InboxEvent.objects.values_list("state", flat=True)) == {"retrying"}


def test_a_change_takes_its_event_with_a_secret_along_and_the_relay_drops_it_once_sent(shop):
    Cards(shop)
    Receipt.objects.create(event_id=uuid.uuid4(), note="draft")

    stored = event_publish_if(
        finalise("draft"), type="card.charged", data={"order": 7, "card": "4242"},
        secrets=("card",),
    )  # fmt: skip
    assert sql.execute_together(stored) == 1
    waiting = OutboxEvent.objects.get().envelope["data"]["card"]
    shop.relay_and_consume()

    assert waiting == "4242"
    assert OutboxEvent.objects.get().envelope["data"]["card"] == REDACTED
    assert notes() == ["4242, row [redacted]", "draft, final"]


def test_a_secret_named_is_a_key_of_the_data():
    with pytest.raises(ValueError, match="card"):
        event_publish(type="card.charged", data={"order": 7, "crad": "4242"}, secrets=("card",))
    with pytest.raises(TypeError):
        event_publish(type="card.charged", data={"order": 7, "card": "4242"}, secrets="card")
    with pytest.raises(TypeError):
        Handlers().on("card.charged", source="shop", secrets="card")
    assert not OutboxEvent.objects.exists()


def test_marking_a_batch_sent_takes_one_more_update_only_when_it_holds_a_secret(shop):
    def updates_to_send() -> int:
        with (
            CaptureQueriesContext(connections["default"]) as queries,
            broker.connection(shop.url) as connection,
        ):
            shop.relay.send_pending(connection)
        return sum(query["sql"].startswith("UPDATE") for query in queries.captured_queries)

    for n in range(3):
        event_publish(type="thing.happened", data={"note": f"plain {n}"})
    plain = updates_to_send()
    event_publish(type="thing.happened", data={"note": "plain"})
    event_publish(type="card.charged", data={"card": "4242"}, secrets=("card",))
    event_publish(type="card.charged", data={"card": "5555"}, secrets=("card",))
    mixed = updates_to_send()

    assert (plain, mixed) == (1, 2)
    assert not OutboxEvent.objects.filter(sent_at=None).exists()
    cards = OutboxEvent.objects.filter(type="card.charged")
    assert [event.envelope["data"]["card"] for event in cards] == [REDACTED, REDACTED]
