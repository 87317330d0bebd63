"""What an operator watches per service: the outbox backlog and the consumer's inbox."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from souk_common.events.models import InboxEvent, OutboxEvent


@dataclass(frozen=True)
class EventStats:
    outbox_waiting: int  # committed events the relay has not sent yet
    outbox_oldest_age_seconds: float  # how long the oldest of them has waited (0: none)
    handled: int  # events handled (each once)
    retrying: int  # events whose handler failed, waiting for their next attempt
    failed_attempts: int  # failed attempts, over events handled, retrying and dead
    dead_letters: int  # events given up on, until replayed


def event_stats() -> EventStats:
    """The numbers of this service's outbox and inbox, read in two queries."""
    outbox = OutboxEvent.objects.filter(sent_at=None).aggregate(
        waiting=Count("id"), oldest=Min("created_at")
    )
    oldest = outbox["oldest"]
    inbox = InboxEvent.objects.aggregate(
        handled=Count("event_id", filter=Q(state=InboxEvent.State.HANDLED)),
        retrying=Count("event_id", filter=Q(state=InboxEvent.State.RETRYING)),
        dead=Count("event_id", filter=Q(state=InboxEvent.State.DEAD)),
        # A handled row's attempts count its one success; the others' attempts all failed.
        attempts=Sum("attempts"),
    )
    failed = (inbox["attempts"] or 0) - inbox["handled"]
    return EventStats(
        outbox_waiting=outbox["waiting"],
        outbox_oldest_age_seconds=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
        handled=inbox["handled"],
        retrying=inbox["retrying"],
        failed_attempts=max(failed, 0),
        dead_letters=inbox["dead"],
    )
