"""The products admin: the catalogue with its stock, bulk retire.

Stock edited here goes through the inventory, so the ledger records it.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from catalogue import services
from catalogue.models import Category, Product
from inventory.services import stock_set


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "stock", "is_active", "updated_at"]
    list_filter = ["is_active", "category"]
    search_fields = ["sku", "name", "description"]
    list_select_related = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["retire_selected"]

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        # The new stock figure is applied through the inventory, so the ledger records it.
        stock = obj.stock
        obj.stock = Product.objects.get(pk=obj.pk).stock if change else 0
        super().save_model(request, obj, form, change)
        stock_set(product=obj, stock=stock)

    @admin.action(description="Retire selected products")
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = services.product_retire_many(products=queryset)
        self.message_user(request, f"Retired {count} product(s).", messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # products are retired, never deleted: past orders refer to them
