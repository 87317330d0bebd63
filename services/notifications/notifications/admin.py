"""The notifications admin: every e-mail an event gave, or why it gave none; read-only.

The events themselves (inbox, dead letters to replay) are in souk_common.events' admin.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import SentEmail


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "subject", "order_id", "status", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["recipient", "=order_id"]
    fields = readonly_fields = (
        "kind",
        "status",
        "recipient",
        "user_id",
        "order_id",
        "subject",
        "body",
        "message_id",
        "event_id",
        "sent_at",
        "recorded_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # mail is sent by events, never made by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
