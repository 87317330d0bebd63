"""The orders admin: filter by status and user, lines inline, money read-only."""

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


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "status", "total", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "=user_id"]
    readonly_fields = ["id", "user_id", "total", "created_at", "updated_at"]
    fields = ["id", "user_id", "status", "total", "created_at", "updated_at"]
    inlines = [OrderLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through the API, which reserves their stock

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Status changes must go through the saga and recovery, which move stock.
        return [*self.readonly_fields, "status"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user_id", "state", "response_status", "created_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["=user_id", "key"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
