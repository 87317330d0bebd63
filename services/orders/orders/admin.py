"""The orders admin: filter by status, kind and user, lines inline; money, shipping, payment
and shipment read-only (they are the services' and the events' to change)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import IdempotencyKey, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


ORDER_FIELDS = (
    "id",
    "user_id",
    "kind",
    "status",
    "subtotal",
    "shipping_cost",
    "total",
    "shipping_address",
    "payment_status",
    "payment_transaction_id",
    "payment_reason",
    "shipment_carrier",
    "shipment_tracking_number",
    "cancel_reason",
    "placed_at",
    "created_at",
    "updated_at",
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "kind", "status", "total", "created_at", "updated_at"]
    list_filter = ["status", "kind", "payment_status", "created_at"]
    search_fields = ["=id", "=user_id", "=payment_transaction_id", "=shipment_tracking_number"]
    fields = ORDER_FIELDS
    # All of it: an order changes only through the saga, the events and the recovery,
    # which move its stock and publish what happened.
    readonly_fields = ORDER_FIELDS
    inlines = [OrderLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through the API, which reserves their stock


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user_id", "state", "response_status", "created_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["=user_id", "key"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
