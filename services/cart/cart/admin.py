"""The cart admin: the embedded store's carts (no REDIS_URL), read-only.

Carts change through the API only. With Redis these tables are empty: staff read a cart
with ``python manage.py show_cart <cart id | user:<id>>`` wherever it lives.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cart.models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = ["product_id", "quantity"]
    readonly_fields = ["product_id", "quantity"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "guest_id", "expires_at", "updated_at"]
    list_filter = ["expires_at"]
    search_fields = ["=user_id", "=guest_id"]
    fields = ["guest_id", "user_id", "expires_at", "created_at", "updated_at"]
    readonly_fields = ["guest_id", "user_id", "expires_at", "created_at", "updated_at"]
    inlines = [CartLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
