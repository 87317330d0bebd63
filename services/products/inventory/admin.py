"""Reservations and the stock ledger, read-only: they change only through the inventory."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory.models import Reservation, ReservationLine, StockMovement


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ["product", "name", "unit_price", "quantity"]
    readonly_fields = ["product", "name", "unit_price", "quantity"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["reference"]
    inlines = [ReservationLineInline]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "product", "kind", "quantity", "reservation"]
    list_filter = ["kind"]
    search_fields = ["product__sku", "reservation__reference"]
    list_select_related = ["product", "reservation"]
