"""The products admin: the catalogue with its stock; retire and put back on sale, never delete.

Products are added, changed, retired and put back on sale through the catalogue's
services, as the API does. A new product's stock enters the ledger as a restock; after
that the stock is shown read-only here: it moves only through the inventory's services
(reservations, and ``PATCH /api/products/{id}/`` for a restock or a write-off), each
movement in the ledger, never through a form that may have been open while orders took
some. Nothing is deleted: past orders and the ledger refer to every product.
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
    actions = ["retire_selected", "put_back_on_sale"]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> list[str]:
        if obj is None:
            return list(self.readonly_fields)  # a new product: its initial stock, a restock
        return ["stock", *self.readonly_fields]  # see the module docstring

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

    @admin.action(description="Put selected products back on sale")
    def put_back_on_sale(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        retired = list(queryset.filter(is_active=False))
        for product in retired:
            services.product_update(product=product, data={"is_active": True})
        self.message_user(request, f"Put {len(retired)} product(s) back on sale.", messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # products are retired, never deleted: past orders refer to them
