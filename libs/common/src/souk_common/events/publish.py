"""Publishing is a write: the event joins the caller's transaction in the outbox."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction

from souk_common import sql, tracing
from souk_common.conf import souk_settings
from souk_common.events.envelope import Event, new_traceparent, secret_keys
from souk_common.events.models import OutboxEvent
from souk_common.logging import current_request_id
from souk_common.tracing import current_traceparent

#: The outbox columns an event fills when it is stored.
OUTBOX_FIELDS = ("event_id", "type", "version", "envelope", "created_at", "secrets")


def event_publish(
    *, type: str, data: dict[str, Any], version: int = 1, secrets: Collection[str] = ()
) -> Event:
    """Store ``type`` with ``data`` in the outbox, to be sent once the transaction commits.

    Call it from the service function that makes the change, inside its
    ``transaction.atomic()``: a change that rolls back publishes nothing, and one that
    commits is sent by ``relay_events`` however soon any process dies. Outside a
    transaction it is its own (an event with no change to join is a programming error
    only the caller can see, so it is allowed). ``data`` must be JSON: ids and facts.

    In the caller's transaction it is one ``INSERT`` and no savepoint (two round trips
    fewer): if storing the event fails, the caller's change cannot commit without it.
    A change that is one statement can take its event along instead:
    :func:`event_publish_if`.

    ``secrets`` names keys of ``data`` that the relay must send but nothing must keep
    (a payment token, for its one consumer): the outbox stores the event whole until
    the relay has sent it, and the relay, marking it sent, replaces each with
    :data:`~souk_common.events.envelope.REDACTED` in the stored copy. Each must be a
    key of ``data`` (a name that is not is a typo that would keep the secret).
    """
    event = _event(type=type, data=data, version=version)
    row = _outbox_row(event, secrets)
    with transaction.atomic(savepoint=False):
        OutboxEvent.objects.create(**dict(zip(OUTBOX_FIELDS, row, strict=True)))
    return event


def event_publish_if(
    change: sql.Statement,
    *,
    type: str,
    data: dict[str, Any],
    version: int = 1,
    secrets: Collection[str] = (),
) -> list[sql.Statement]:
    """``change`` (a conditional ``UPDATE``, say), and ``type`` with ``data`` stored in the
    outbox only if the change changed a row: statements for
    :func:`souk_common.sql.execute_together`, stored all or none, the first counting 1
    if the change happened and 0 if not.

    On PostgreSQL the change and its event are one statement: one round trip, where
    :func:`event_publish` in a transaction takes three more (``BEGIN``, the ``INSERT``,
    ``COMMIT``). ``data`` says what the change makes of the entity, as it will be once
    the change is made; ``secrets`` are redacted once it is sent, as for
    :func:`event_publish`.
    """
    event = _event(type=type, data=data, version=version)
    return sql.insert_if_changed(change, OutboxEvent, OUTBOX_FIELDS, _outbox_row(event, secrets))


def _event(*, type: str, data: dict[str, Any], version: int) -> Event:
    """An event of this service, in the context of the request (or command) making it."""
    source = souk_settings.EVENTS_SOURCE
    if not source:
        raise RuntimeError("SOUK['EVENTS_SOURCE'] names the publishing service; it is unset.")
    return Event(
        type=type,
        version=version,
        data=data,
        source=source,
        request_id=current_request_id(),
        traceparent=current_traceparent() or _new_trace(type),
    )


def _new_trace(type: str) -> str:
    """The ``traceparent`` of an event published outside any request or event (by a
    scheduled command): a trace of its own. While tracing, a span of its own starts it,
    sampled as a request would be, so the relay's and consumers' spans have a root."""
    if not tracing.enabled():
        return new_traceparent()
    with tracing.span(f"create {type}", kind="producer", parent=""):
        return tracing.span_traceparent()


def _outbox_row(event: Event, secrets: Collection[str]) -> tuple[Any, ...]:
    """The values of :data:`OUTBOX_FIELDS` for ``event`` with the data keys ``secrets``
    (stored sorted, or NULL when there are none: the relay's sign of nothing to redact)."""
    keys = secret_keys(secrets)
    missing = keys - event.data.keys()
    if missing:
        raise ValueError(f"secrets not in the data of {event.type!r}: {sorted(missing)}")
    return (
        event.id,
        event.type,
        event.version,
        event.envelope(),
        event.occurred_at,
        sorted(keys) or None,
    )
