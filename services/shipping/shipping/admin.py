"""The shipping admin: staff edit the rates (the countries shipped to) and see shipments.

A rate has no rule beyond its fields' own (checked by the form, and by the database's
constraints), so the admin saves it as any model form does; a quote reads the row as it
is now. Shipments are made and cancelled by events only: read-only here. The events
themselves (outbox, inbox, dead letters to replay) are in souk_common.events' admin.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from shipping.models import Shipment, ShippingRate


class ShippingRateForm(forms.ModelForm):
    class Meta:
        model = ShippingRate
        fields = [
            "country",
            "country_name",
            "carrier",
            "base_cost",
            "per_item_cost",
            "free_over",
            "estimated_days",
        ]

    def clean_country(self) -> str:
        """``gb`` is GB: codes are kept in capitals, as quotes look them up."""
        return str(self.cleaned_data["country"]).upper()


@admin.register(ShippingRate)
class ShippingRateAdmin(admin.ModelAdmin):
    form = ShippingRateForm
    list_display = [
        "country",
        "country_name",
        "carrier",
        "base_cost",
        "per_item_cost",
        "free_over",
        "estimated_days",
        "updated_at",
    ]
    search_fields = ["country", "country_name", "carrier"]
    readonly_fields = ["updated_at"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "order_id",
        "user_id",
        "country",
        "carrier",
        "status",
        "created_at",
    ]
    list_filter = ["status", "carrier", "country"]
    search_fields = ["=tracking_number", "=order_id", "=user_id"]
    fields = readonly_fields = (
        "order_id",
        "user_id",
        "status",
        "country",
        "carrier",
        "tracking_number",
        "estimated_days",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a shipment is made by order.paid, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
