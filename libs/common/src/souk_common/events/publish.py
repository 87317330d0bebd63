"""Publishing is a write: the event joins the caller's transaction in the outbox."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from souk_common.conf import souk_settings
from souk_common.events.envelope import Event, new_traceparent
from souk_common.events.models import OutboxEvent
from souk_common.logging import current_request_id, current_traceparent


def event_publish(*, type: str, data: dict[str, Any], version: int = 1) -> Event:
    """Store ``type`` with ``data`` in the outbox, to be sent once the transaction commits.

    Call it from the service function that makes the change, inside its
    ``transaction.atomic()``: a change that rolls back publishes nothing, and one that
    commits is sent by ``relay_events`` however soon any process dies. Outside a
    transaction it is its own (an event with no change to join is a programming error
    only the caller can see, so it is allowed). ``data`` must be JSON: ids and facts.

    In the caller's transaction it is one ``INSERT`` and no savepoint (two round trips
    fewer): if storing the event fails, the caller's change cannot commit without it.
    """
    source = souk_settings.EVENTS_SOURCE
    if not source:
        raise RuntimeError("SOUK['EVENTS_SOURCE'] names the publishing service; it is unset.")
    event = Event(
        type=type,
        version=version,
        data=data,
        source=source,
        request_id=current_request_id(),
        traceparent=current_traceparent() or new_traceparent(),
    )
    with transaction.atomic(savepoint=False):
        OutboxEvent.objects.create(
            event_id=event.id,
            type=event.type,
            version=event.version,
            envelope=event.envelope(),
            created_at=event.occurred_at,
        )
    return event
