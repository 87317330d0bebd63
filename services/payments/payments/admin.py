"""The payments admin: payments to look at, found by their order's id. Payments are made
and refunded by events only (payments.services), so the admin adds, changes and deletes
none."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["order_id", "status", "amount", "user_id", "reason", "created_at"]
    list_filter = ["status"]
    search_fields = ["=order_id", "=transaction_id"]
    readonly_fields = [field.name for field in Payment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
