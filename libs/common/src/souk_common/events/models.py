"""The outbox (events this service published) and the inbox (events it consumed)."""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    """An event stored with the change it describes, until the relay has sent it.

    ``id`` orders the outbox: the relay sends the oldest unsent first. Sent rows stay
    for ``EVENTS_OUTBOX_RETENTION_SECONDS`` (to look at), then the relay purges them.
    ``secrets`` lists the data keys that are kept only until the event is sent: the
    relay replaces them in ``envelope`` as it marks the row sent (NULL: none).
    """

    event_id = models.UUIDField(unique=True, editable=False)
    type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    envelope = models.JSONField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    secrets = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's question: the oldest unsent events. A partial index stays as
            # small as the backlog, however many sent rows are kept.
            models.Index(
                fields=["id"], name="souk_outbox_unsent", condition=models.Q(sent_at=None)
            ),
            models.Index(fields=["sent_at"], name="souk_outbox_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class InboxEvent(models.Model):
    """An event this service received, by id: handled, waiting for a retry, or dead.

    A handled event's row is written in the same transaction as the handler's
    effect, so a redelivered event finds it and has no second effect. A failed
    attempt keeps the envelope, how many attempts were made and when the next one
    is due; after the last attempt the event is a dead letter until replayed. The
    envelope of a handled event has its type's secrets redacted
    (:meth:`souk_common.events.consume.Handlers.on`); a retrying or dead one keeps them.
    Types the service ignores leave no row.
    """

    class State(models.TextChoices):
        HANDLED = "handled"
        RETRYING = "retrying"
        DEAD = "dead"

    event_id = models.UUIDField(primary_key=True, editable=False)
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices)
    envelope = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="souk_inbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.state})"
