"""The products admin: the catalogue with its stock, bulk retire.

Products are added, changed and retired through the catalogue's services, as the API
does: stock edited here reaches the ledger the same way.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from catalogue import services
from catalogue.models import Category, Product


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
        """What the API's create and update do: the fields the form changed, a new stock
        figure recorded in the ledger."""
        if change:
            changed = {field: form.cleaned_data[field] for field in form.changed_data}
            services.product_update(product=obj, data=changed)
        else:
            product = services.product_create(data=form.cleaned_data)
            obj.pk = product.pk
            obj.refresh_from_db()  # the admin goes on with the product made (its log, its page)

    @admin.action(description="Retire selected products")
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        active = list(queryset.filter(is_active=True))
        for product in active:
            services.product_retire(product=product)
        self.message_user(request, f"Retired {len(active)} product(s).", messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # products are retired, never deleted: past orders refer to them
