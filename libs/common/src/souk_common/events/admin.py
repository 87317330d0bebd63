"""The outbox and the inbox in the admin: the backlog, and dead letters to replay.

Every service that installs ``souk_common.events`` has these pages, and its dead letters'
"Replay" action: the same ``dead_letter_replay`` as ``manage.py dead_letters --replay``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from souk_common.events.consume import MALFORMED, dead_letter_replay
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.events.stats import event_stats


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Events are facts: the admin shows them and never edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        stats = event_stats()
        self.message_user(
            request,
            f"Outbox: {stats.outbox_waiting} waiting, the oldest for "
            f"{stats.outbox_oldest_age_seconds:.1f} s. Inbox: {stats.handled} handled, "
            f"{stats.retrying} retrying, {stats.failed_attempts} failed attempts, "
            f"{stats.dead_letters} dead letters.",
            messages.INFO,
        )
        return super().changelist_view(request, extra_context)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnly):
    list_display = ["type", "event_id", "created_at", "sent_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "type"]
    search_fields = ["=event_id"]


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnly):
    list_display = ["type", "source", "event_id", "state", "attempts", "received_at"]
    list_filter = ["state", "type", "source"]
    search_fields = ["=event_id"]
    actions = ["replay"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Replaying is the one change, and only as the action below; the page stays read-only.
        return obj is None and bool(request.user.has_perm("souk_events.change_inboxevent"))

    @admin.action(description="Replay the selected dead letters")
    def replay(self, request: HttpRequest, queryset: QuerySet[InboxEvent]) -> None:
        """What ``dead_letters --replay`` does (``dead_letter_replay``), for each selected;
        an event that is not a dead letter, or one kept malformed, is named and left alone."""
        replayed = 0
        for row in queryset.order_by("received_at"):
            if dead_letter_replay(row.event_id):
                replayed += 1
            elif row.type == MALFORMED:
                self.message_user(
                    request,
                    f"Event {row.event_id} was not replayed: it is no event (kept as it came), "
                    "so no handler can take it.",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"Event {row.event_id} was not replayed: it is {row.state}, not a dead letter.",
                    messages.WARNING,
                )
        self.message_user(
            request,
            f"{replayed} dead letter(s) replayed; the consumer tries them again now.",
            messages.SUCCESS,
        )
