"""The outbox and the inbox in the admin: the backlog, and dead letters to replay.

Every service that installs ``souk_common.events`` has these pages, and its dead letters'
"Replay" action: the same ``dead_letter_replay`` as ``manage.py dead_letters --replay``.

An event's secrets (a password-reset token, a payment token) stay in its row while it is
needed whole: in the outbox until it is sent, in the inbox while it waits for a retry or
is a dead letter. The admin never shows them: it shows each envelope with its secrets
redacted, the outbox row's own and the inbox's handlers' for its type.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from souk_common.conf import souk_settings
from souk_common.events.consume import MALFORMED, configured_handlers, dead_letter_replay
from souk_common.events.envelope import envelope_redacted
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.events.stats import event_stats


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Events are facts: the admin shows them and never edits them, and never shows a
    secret they hold (:meth:`secret_keys`)."""

    exclude = ["envelope"]
    readonly_fields = ["envelope_shown"]

    def secret_keys(self, obj: Any) -> frozenset[str]:
        raise NotImplementedError

    @admin.display(description="envelope (secrets redacted)")
    def envelope_shown(self, obj: Any) -> str:
        shown = envelope_redacted(obj.envelope, self.secret_keys(obj))
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, sort_keys=True))

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

    def secret_keys(self, obj: Any) -> frozenset[str]:
        return frozenset(obj.secrets or ())


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnly):
    list_display = ["type", "source", "event_id", "state", "attempts", "received_at"]
    list_filter = ["state", "type", "source"]
    search_fields = ["=event_id"]
    actions = ["replay"]

    def secret_keys(self, obj: Any) -> frozenset[str]:
        if not souk_settings.EVENTS_HANDLERS:  # a service that consumes nothing
            return frozenset()
        return configured_handlers().secrets_of_type(obj.type)

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
