"""Publishing is a write: the event joins the caller's transaction in the outbox."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from souk_common import sql
from souk_common.conf import souk_settings
from souk_common.events.envelope import Event, new_traceparent
from souk_common.events.models import OutboxEvent
from souk_common.logging import current_request_id, current_traceparent

#: The outbox columns an event fills when it is stored.
OUTBOX_FIELDS = ("event_id", "type", "version", "envelope", "created_at")


def event_publish(*, type: str, data: dict[str, Any], version: int = 1) -> Event:
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
    """
    event = _event(type=type, data=data, version=version)
    with transaction.atomic(savepoint=False):
        OutboxEvent.objects.create(**dict(zip(OUTBOX_FIELDS, _outbox_row(event), strict=True)))
    return event


def event_publish_if(
    change: sql.Statement, *, type: str, data: dict[str, Any], version: int = 1
) -> list[sql.Statement]:
    """``change`` (a conditional ``UPDATE``, say), and ``type`` with ``data`` stored in the
    outbox only if the change changed a row: statements for
    :func:`souk_common.sql.execute_together`, stored all or none, the first counting 1
    if the change happened and 0 if not.

    On PostgreSQL the change and its event are one statement: one round trip, where
    :func:`event_publish` in a transaction takes three more (``BEGIN``, the ``INSERT``,
    ``COMMIT``). ``data`` says what the change makes of the entity, as it will be once
    the change is made.
    """
    event = _event(type=type, data=data, version=version)
    return sql.insert_if_changed(change, OutboxEvent, OUTBOX_FIELDS, _outbox_row(event))


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
        traceparent=current_traceparent() or new_traceparent(),
    )


def _outbox_row(event: Event) -> tuple[Any, ...]:
    """The values of :data:`OUTBOX_FIELDS` for ``event``."""
    return (event.id, event.type, event.version, event.envelope(), event.occurred_at)
