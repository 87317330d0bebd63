"""The relay: sends the outbox to the broker, oldest first, marking events sent once confirmed."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from datetime import timedelta

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from kombu import Connection, Exchange, Producer

from souk_common import tracing
from souk_common.events import broker
from souk_common.events.envelope import envelope_redacted
from souk_common.events.models import OutboxEvent
from souk_common.heartbeat import Heartbeat

logger = logging.getLogger(__name__)

# What the outbox's trigger notifies as an event's transaction commits (PostgreSQL; see
# migrations/0003_outbox_notify.py).
CHANNEL = "souk_events_outbox"
# How long a relay that listens for that waits without it before it looks all the same.
LISTENING_POLL_SECONDS = 1.0


class OutboxWakeup:
    """``LISTEN souk_events_outbox`` on a PostgreSQL connection of its own (autocommit,
    outside Django's, which the relay's transactions use).

    :meth:`wait` returns as soon as a transaction that stored events commits, or after
    ``timeout``. Should the connection fail, it is made again at the next wait, which
    returns at once (events committed meanwhile notified no one: the relay looks first).
    """

    def __init__(self, params: dict[str, object]) -> None:
        self._params = params
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    @classmethod
    def of_database(cls, alias: str = DEFAULT_DB_ALIAS) -> OutboxWakeup | None:
        """One for the database ``alias`` is, or None when it is not PostgreSQL."""
        database = connections[alias]
        if database.vendor != "postgresql":
            return None
        params = dict(database.get_connection_params())
        for django_only in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(django_only, None)
        # A connection that only listens sends nothing: TCP keepalives tell, within a
        # minute, that it died without a word (the relay then makes another).
        for name, value in (
            ("keepalives", 1),
            ("keepalives_idle", 30),
            ("keepalives_interval", 10),
            ("keepalives_count", 3),
        ):
            params.setdefault(name, value)
        return cls(params)

    def wait(self, timeout: float) -> None:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(**self._params, autocommit=True)  # type: ignore[arg-type]
                self._connection.execute(f"LISTEN {CHANNEL}")
                return
            for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error as exc:
            logger.warning("the relay stopped listening for new events (%s); it looks again", exc)
            self.close()
            time.sleep(min(timeout, 1.0))

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
            self._connection = None


class Relay:
    """Sends ``source``'s outbox to its exchange until ``stop`` is set.

    Each batch is read with ``SELECT ... FOR UPDATE SKIP LOCKED`` in one transaction
    that publishes the events one by one, each waiting for the broker's confirm, and
    marks them sent before it commits. A broker or connection failure rolls the batch
    back: the events stay unsent and go again, in the same order, once the broker is
    back (a consumer's inbox makes the copies already delivered harmless). Several
    relays may run at once: each takes batches the others have not locked.

    An event published with secrets (:func:`~souk_common.events.publish.event_publish`)
    is sent whole, and stored redacted from the moment it is marked sent, in the same
    transaction: the rows with secrets are marked in one ``UPDATE`` of their own, so a
    batch with none takes the one ``UPDATE`` it always did.
    """

    def __init__(
        self,
        *,
        url: str,
        source: str,
        poll_seconds: float,
        retention_seconds: float,
        batch_size: int = 100,
        max_backoff_seconds: float = 5.0,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.url = url
        self.heartbeat = heartbeat if heartbeat is not None else Heartbeat.configured()
        self.exchange = broker.exchange(source)
        self.poll_seconds = poll_seconds
        self.retention = timedelta(seconds=retention_seconds)
        self.batch_size = batch_size
        self.max_backoff_seconds = max_backoff_seconds
        self.sent = 0

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, reconnecting with backoff whenever the broker fails."""
        broker.keep_connected(
            self.url,
            stop,
            self._relay,
            name="relay",
            max_backoff_seconds=self.max_backoff_seconds,
            beat=self.heartbeat.beat,
        )

    def producer(self, connection: Connection) -> Producer:
        """A producer on ``connection`` for the exchange, which it declares."""
        channel = connection.default_channel
        self.exchange(channel).declare()
        return Producer(channel, exchange=self.exchange)

    def send_pending(self, connection: Connection) -> int:
        """Send every unsent event now, batch by batch; how many were sent."""
        producer = self.producer(connection)
        sent, total = self.batch_size, 0
        while sent == self.batch_size:
            sent = self.send_batch(producer, self.exchange)
            total += sent
        return total

    def _relay(self, connection: Connection, stop: threading.Event) -> None:
        producer = self.producer(connection)
        purged_at = timezone.now() - self.retention  # purge at once on start
        wakeup = OutboxWakeup.of_database()
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                sent = self.send_batch(producer, self.exchange)
                if timezone.now() - purged_at > timedelta(minutes=1):
                    self.purge()
                    purged_at = timezone.now()
                if sent < self.batch_size:
                    self._idle(connection, wakeup)
        finally:
            if wakeup is not None:
                wakeup.close()

    def _idle(self, connection: Connection, wakeup: OutboxWakeup | None) -> None:
        """Wait for more events: on PostgreSQL until the database says some were
        committed, or a second (``poll_seconds`` if longer) should a notification be
        lost; elsewhere ``poll_seconds``. Meanwhile
        read what the broker sends (its heartbeats), and send ours: an idle connection
        stays alive."""
        if wakeup is None:
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=self.poll_seconds)
        else:
            wakeup.wait(max(self.poll_seconds, LISTENING_POLL_SECONDS))
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.01)
        connection.heartbeat_check()

    def send_batch(self, producer: Producer, exchange: Exchange) -> int:
        """Publish the oldest unsent events not locked by another relay; mark them sent."""
        with transaction.atomic():
            batch = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(sent_at=None)
                .order_by("id")[: self.batch_size]
            )
            for event in batch:
                self.publish(producer, exchange, event)
            if batch:
                self._mark_sent(batch)
        self.sent += len(batch)
        return len(batch)

    @staticmethod
    def publish(producer: Producer, exchange: Exchange, event: OutboxEvent) -> None:
        """Send ``event``, and wait for the broker's confirm.

        While tracing, the sending is a span, child of the one that stored the event
        (its envelope's ``traceparent``), and the envelope sent names this span as the
        parent of the consumers' (the stored one keeps its own).
        """
        envelope = event.envelope
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "send",
            "messaging.destination.name": exchange.name,
            "messaging.message.id": str(event.event_id),
        }
        parent = str(envelope.get("traceparent") or "")
        with tracing.span(
            f"send {event.type}", kind="producer", parent=parent, attributes=attributes
        ):
            if tracing.enabled():
                envelope = {**envelope, "traceparent": tracing.current_traceparent()}
            producer.publish(
                json.dumps(envelope, separators=(",", ":")).encode(),
                exchange=exchange,
                routing_key="",
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode="persistent",
                message_id=str(event.event_id),
                type=event.type,
                retry=False,  # a failure rolls the batch back; run() reconnects
            )

    @staticmethod
    def _mark_sent(batch: list[OutboxEvent]) -> None:
        """Mark ``batch`` sent; the rows with secrets lose them in the same change."""
        sent_at = timezone.now()
        plain = [event.id for event in batch if not event.secrets]
        if plain:
            OutboxEvent.objects.filter(id__in=plain).update(sent_at=sent_at)
        with_secrets = [event for event in batch if event.secrets]
        for event in with_secrets:
            event.sent_at = sent_at
            event.envelope = envelope_redacted(event.envelope, event.secrets or ())
        if with_secrets:
            # One UPDATE (CASE per row) for all of them, on any database.
            OutboxEvent.objects.bulk_update(with_secrets, ["sent_at", "envelope"])

    def purge(self) -> int:
        """Delete events sent longer ago than the retention period."""
        deleted, _ = OutboxEvent.objects.filter(
            sent_at__lt=timezone.now() - self.retention
        ).delete()
        return deleted
