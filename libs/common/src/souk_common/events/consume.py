"""Consuming: one handler per event type, an inbox that makes redelivery harmless,
retries with backoff, and dead letters that never block the queue.

A consuming app registers its handlers in its ``handlers.py``::

    handlers = Handlers()

    @handlers.on("order.confirmed", source="orders")
    def order_confirmed(event: Event) -> None:
        services.confirmation_send(order=event.data)

and names them in ``SOUK["EVENTS_HANDLERS"] = "<app>.handlers.handlers"``. A handler
calls the app's services, as a view does; it runs inside the transaction that records
the event in the inbox, so its writes and the record commit or roll back together.

A queue is bound to whole exchanges (fanout): it receives every type its sources
publish. The types a service knowingly does not consume are named, and acknowledged
with nothing stored::

    handlers.ignore("order.placed", "order.shipped", source="orders")

Any other type with no handler (a typo, a type nobody declared) is a dead letter.

A handler whose event carries a secret names it, and the inbox's copy of the event
keeps it only as long as it may be needed again::

    @handlers.on("order.placed", source="orders", secrets=("payment_token",))

The handler gets the event whole; the row recording it as handled stores
:data:`~souk_common.events.envelope.REDACTED` in its place. An event whose handler
failed keeps it while it waits for a retry (the retry needs it) and loses it in the
transaction that finally records it handled; a dead letter keeps it, so that it can
be replayed, until the service redacts it (:func:`inbox_secrets_redact`, once it knows
the event will never be needed whole again).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, transaction
from django.db import connection as db_connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu import Connection, Consumer
from kombu.message import Message

from souk_common import tracing
from souk_common.conf import souk_settings
from souk_common.events import broker
from souk_common.events.envelope import Event, MalformedEvent, envelope_redacted, secret_keys
from souk_common.events.models import InboxEvent
from souk_common.heartbeat import Heartbeat
from souk_common.logging import request_id_var, traceparent_var

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
#: The type a dead letter is kept under when its message was no event at all.
MALFORMED = "(malformed)"


@dataclass(frozen=True)
class Registration:
    handler: Handler
    source: str
    versions: frozenset[int]
    secrets: frozenset[str] = frozenset()


class Handlers:
    """The one place a service's event handlers are registered, by event type, and the
    types it knowingly does not consume."""

    def __init__(self) -> None:
        self._by_type: dict[str, Registration] = {}
        self._ignored: dict[str, str] = {}  # type -> the source it is ignored from

    def on(
        self,
        type: str,
        *,
        source: str,
        versions: tuple[int, ...] = (1,),
        secrets: Collection[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function for events ``type`` from ``source``.

        ``secrets`` names keys of the event's data that must not be kept once the
        event is handled (a payment token): the handler gets them, and the inbox's
        row stores :data:`~souk_common.events.envelope.REDACTED` in their place from
        the moment the event is recorded handled, in that same transaction. Until
        then (a failed attempt waiting for a retry, a dead letter) the row keeps them.
        """
        keys = secret_keys(secrets)

        def register(handler: Handler) -> Handler:
            self._refuse_twice(type)
            self._by_type[type] = Registration(handler, source, frozenset(versions), keys)
            return handler

        return register

    def ignore(self, *types: str, source: str) -> None:
        """Events ``types`` from ``source`` are none of this service's business: the
        consumer acknowledges them and stores nothing (no inbox row, no dead letter),
        with at most a debug log line naming the type and the id.

        For the types a source publishes to the exchange the queue is bound to for
        others. Ignoring binds nothing; a type neither handled nor ignored (or ignored
        from another source) stays a dead letter, as an unknown type must.
        """
        for type in types:
            self._refuse_twice(type)
            self._ignored[type] = source

    def _refuse_twice(self, type: str) -> None:
        if type in self._by_type:
            raise ValueError(f"{type!r} has a handler already")
        if type in self._ignored:
            raise ValueError(f"{type!r} is ignored already")

    @property
    def sources(self) -> set[str]:
        """The services whose exchanges the consumer's queue is bound to (those whose
        events it handles; ignoring binds nothing)."""
        return {registration.source for registration in self._by_type.values()}

    def ignores(self, event: Event) -> bool:
        """Whether ``event`` is of a type this service ignores from its source."""
        return self._ignored.get(event.type) == event.source

    def secrets_of(self, event: Event) -> frozenset[str]:
        """The data keys of ``event`` its inbox row must not keep once it is handled."""
        return self.secrets_of_type(event.type)

    def secrets_of_type(self, type_: str) -> frozenset[str]:
        """The data keys of events of ``type_`` that are secret here."""
        registration = self._by_type.get(type_)
        return registration.secrets if registration is not None else frozenset()

    def handler_for(self, event: Event) -> Handler:
        """The handler of ``event``; :class:`Unhandled` if it has none (a dead letter)."""
        registration = self._by_type.get(event.type)
        if registration is None:
            raise Unhandled(f"no handler for {event.type!r}")
        if event.version not in registration.versions:
            raise Unhandled(f"{event.type!r} version {event.version} is not handled")
        return registration.handler


class Unhandled(Exception):
    """An event no handler takes: its type or version is unknown here."""


def configured_handlers() -> Handlers:
    handlers = import_string(souk_settings.EVENTS_HANDLERS)
    if not isinstance(handlers, Handlers):
        raise TypeError(f"{souk_settings.EVENTS_HANDLERS} is not a Handlers")
    return handlers


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure an event is tried again."""
    seconds = souk_settings.EVENTS_RETRY_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, souk_settings.EVENTS_RETRY_MAX_SECONDS))


class Inbox:
    """Receiving events by id: each one's effect happens once, or it ends a dead letter."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers

    def receive(self, event: Event) -> InboxEvent.State | None:
        """Handle ``event`` unless its id is known; what became of it (None: nothing was
        recorded, as it is a duplicate or of a type the service ignores).

        Handled, its row keeps its data's secrets redacted; failed, them whole (for
        the retry, or the replay of a dead letter)."""
        if self.handlers.ignores(event):
            logger.debug("event %s %s ignored", event.type, event.id)
            return None
        try:
            handler = self.handlers.handler_for(event)
        except Unhandled as exc:
            return self._record_failure(event, exc, final=True)
        try:
            with transaction.atomic(), _context(event):
                handled = _row(event, state=InboxEvent.State.HANDLED, attempts=1)
                handled["envelope"] = envelope_redacted(
                    handled["envelope"], self.handlers.secrets_of(event)
                )
                _, created = InboxEvent.objects.get_or_create(
                    event_id=event.id, defaults=handled | {"handled_at": timezone.now()}
                )
                if not created:
                    return None  # handled, waiting for a retry or dead: no second effect
                handler(event)
        except Exception as exc:  # noqa: BLE001 -- any failure of a handler: its writes and inbox row rolled back
            return self._record_failure(event, exc, final=souk_settings.EVENTS_MAX_ATTEMPTS <= 1)
        return InboxEvent.State.HANDLED

    def receive_malformed(self, body: bytes | str, error: MalformedEvent) -> InboxEvent.State:
        """Keep a message that is no event as a dead letter, under an id of its own."""
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        InboxEvent.objects.create(
            event_id=uuid.uuid4(),
            type=MALFORMED,
            source="",
            state=InboxEvent.State.DEAD,
            envelope={"raw": raw[:100_000]},
            attempts=0,
            last_error=str(error),
            received_at=timezone.now(),
        )
        logger.error("a malformed message was dead-lettered: %s", error)
        return InboxEvent.State.DEAD

    def retry_due(
        self,
        now: datetime | None = None,
        limit: int = 100,
        beat: Callable[[], None] = lambda: None,
    ) -> int:
        """Try again the events whose next attempt is due (oldest first); how many were tried.

        ``beat`` before each: a hundred handlers each waiting out a timeout (a mail server
        that hangs) is a loop going round, slowly, not a loop hung.
        """
        tried = 0
        while tried < limit:
            beat()
            with transaction.atomic():
                row = (
                    InboxEvent.objects.select_for_update(skip_locked=True)
                    .filter(
                        state=InboxEvent.State.RETRYING,
                        next_attempt_at__lte=now or timezone.now(),
                    )
                    .order_by("next_attempt_at")
                    .first()
                )
                if row is None:
                    return tried
                self._attempt(row)
            tried += 1
        return tried

    def _attempt(self, row: InboxEvent) -> None:
        row.attempts += 1
        try:
            event = Event.from_envelope(row.envelope)
            if self.handlers.ignores(event):
                # Kept before its type was ignored (a dead letter replayed): nothing to keep.
                row.delete()
                logger.info(
                    "event %s %s is ignored now; its row is deleted", row.type, row.event_id
                )
                return
            handler = self.handlers.handler_for(event)
            with transaction.atomic(), _context(event):  # a savepoint: the handler's writes
                handler(event)
        except Exception as exc:  # noqa: BLE001 -- any failure of a handler counts as one
            row.last_error = _describe(exc)
            if row.attempts >= souk_settings.EVENTS_MAX_ATTEMPTS or isinstance(
                exc, Unhandled | MalformedEvent
            ):
                row.state = InboxEvent.State.DEAD
                row.next_attempt_at = None
                logger.error("event %s %s is a dead letter: %r", row.type, row.event_id, exc)
            else:
                row.next_attempt_at = timezone.now() + retry_delay(row.attempts)
                logger.warning("event %s %s failed again: %r", row.type, row.event_id, exc)
        else:
            row.state = InboxEvent.State.HANDLED
            row.handled_at = timezone.now()
            row.next_attempt_at = None
            # Needed no more: the secrets go in the transaction that records it handled.
            row.envelope = envelope_redacted(row.envelope, self.handlers.secrets_of(event))
        row.save()

    def _record_failure(
        self, event: Event, exc: Exception, *, final: bool
    ) -> InboxEvent.State | None:
        state = InboxEvent.State.DEAD if final else InboxEvent.State.RETRYING
        now = timezone.now()
        try:
            with transaction.atomic():
                InboxEvent.objects.create(
                    **_row(event, state=state, attempts=1),
                    last_error=_describe(exc),
                    next_attempt_at=None if final else now + retry_delay(1),
                )
        except IntegrityError:
            return None  # another consumer recorded it meanwhile: theirs stands
        if final:
            logger.error("event %s %s is a dead letter: %r", event.type, event.id, exc)
        else:
            logger.warning("event %s %s failed; retried later: %r", event.type, event.id, exc)
        return state


def dead_letter_replay(event_id: uuid.UUID) -> bool:
    """Give a dead letter its attempts back and make it due now; False if it is not dead.

    The consumer (``consume_events``) tries it again within a moment, as a retry.
    """
    return bool(
        InboxEvent.objects.filter(event_id=event_id, state=InboxEvent.State.DEAD)
        .exclude(type=MALFORMED)
        .update(state=InboxEvent.State.RETRYING, attempts=0, next_attempt_at=timezone.now())
    )


def inbox_secrets_redact(events: QuerySet[InboxEvent], *, secrets: Collection[str]) -> int:
    """Replace the data keys ``secrets`` of the stored ``events`` with
    :data:`~souk_common.events.envelope.REDACTED`; how many rows changed.

    For the copies the inbox keeps whole (waiting for a retry, or dead letters) that the
    service knows it will never need whole again: a charge whose order was cancelled
    since, say. Call it in the transaction of the change that makes them useless, so
    both commit together. A row a consumer holds at this moment, attempting it, is
    skipped rather than waited for (that attempt may be waiting for a lock the caller
    holds): once handled it loses its type's registered secrets anyway
    (:meth:`Handlers.on`); failed again, it keeps them.
    """
    keys = secret_keys(secrets)
    changed = 0
    with transaction.atomic():
        for row in events.select_for_update(skip_locked=True).order_by("event_id"):
            envelope = envelope_redacted(row.envelope, keys)
            if envelope is not row.envelope:
                row.envelope = envelope
                row.save(update_fields=["envelope"])
                changed += 1
    return changed


def _reconnect_if_stale() -> None:
    """Between two events, drop a database connection that broke or outlived its age,
    as Django does between two requests (never inside a transaction: a caller's)."""
    if not db_connection.in_atomic_block:
        close_old_connections()


def _row(event: Event, *, state: str, attempts: int) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "source": event.source,
        "state": state,
        "envelope": event.envelope(),
        "attempts": attempts,
        "received_at": timezone.now(),
    }


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-4000:]


class _context:
    """The event's request id and trace context, for the handler's logs, calls and events.

    While tracing, handling the event is a span, child of the one that sent it (the
    envelope's ``traceparent``: the relay's), with the handler's queries, calls and
    events under it; an exception leaving the handler is recorded on it.
    """

    def __init__(self, event: Event) -> None:
        self.event = event

    def __enter__(self) -> None:
        event = self.event
        self.span = tracing.span(
            f"process {event.type}",
            kind="consumer",
            parent=event.traceparent,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.message.id": str(event.id),
                "souk.event.source": event.source,
            },
        )
        self.span.__enter__()
        self.tokens = (
            request_id_var.set(event.request_id),
            traceparent_var.set(tracing.span_traceparent() or event.traceparent),
        )

    def __exit__(self, *exc: Any) -> None:
        request_id_var.reset(self.tokens[0])
        traceparent_var.reset(self.tokens[1])
        self.span.__exit__(*exc)


class QueueConsumer:
    """Consumes ``service``'s queue until ``stop`` is set, and runs the retries that are due.

    A message is acknowledged only after what became of it is committed: handled,
    waiting for a retry, or dead. A consumer that dies before that leaves the message
    to the broker, which delivers it again; the inbox makes the second delivery harmless.
    """

    def __init__(
        self,
        *,
        url: str,
        service: str,
        handlers: Handlers,
        retry_every: float = 0.5,
        max_backoff_seconds: float = 5.0,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.url = url
        self.heartbeat = heartbeat if heartbeat is not None else Heartbeat.configured()
        self.queues = broker.queue(service, handlers.sources)
        self.inbox = Inbox(handlers)
        self.retry_every = retry_every
        self.max_backoff_seconds = max_backoff_seconds
        self.received = 0

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff whenever the broker fails."""
        broker.keep_connected(
            self.url,
            stop,
            self.consume,
            name="consumer",
            max_backoff_seconds=self.max_backoff_seconds,
            beat=self.heartbeat.beat,
        )

    def declare(self, connection: Connection) -> None:
        """Declare the exchanges this queue is bound to, the queue and its bindings.

        A queue receives the events published from the moment it is bound: start
        the consumers (or run this) before the first event that matters to them.
        """
        channel = connection.default_channel
        for queue in self.queues:
            queue(channel).declare()

    def consume(
        self, connection: Connection, stop: threading.Event, *, until_idle: bool = False
    ) -> None:
        """Handle messages and due retries until ``stop`` is set (or, with ``until_idle``,
        until a wait for a message times out with no retry due)."""
        self.declare(connection)
        # on_message: the raw message, whatever its content type; the envelope is read here.
        consumer = Consumer(
            connection.default_channel, queues=self.queues, on_message=self.on_message
        )
        consumer.qos(prefetch_count=1)
        looked_at = -math.inf
        with consumer:
            while not stop.is_set():
                self.heartbeat.beat()
                try:
                    connection.drain_events(timeout=self.retry_every)
                    idle = False
                except TimeoutError:
                    connection.heartbeat_check()
                    idle = True
                # Due retries: looked for when idle, and every retry_every while messages
                # keep coming (not after each: that is a transaction per message).
                retried = 0
                if idle or time.monotonic() - looked_at >= self.retry_every:
                    retried = self.inbox.retry_due(beat=self.heartbeat.beat)
                    looked_at = time.monotonic()
                if until_idle and idle and not retried:
                    return

    def on_message(self, message: Message) -> None:
        _reconnect_if_stale()
        try:
            event = Event.from_json(message.body)
        except MalformedEvent as exc:
            self.inbox.receive_malformed(message.body, exc)
        else:
            self.inbox.receive(event)
        message.ack()
        self.received += 1
