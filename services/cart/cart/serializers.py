"""What the cart API's views share: the cart as every view shows it, and a strict integer
for their inputs (each view nests its own input serializer, cart.apis)."""

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not ``"3"``, ``3.0`` or ``true``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class MoneyField(serializers.DecimalField):
    """An amount in "12.50" form. A price is below 10^8 (products' own bound), a line at
    most 1000 of one product, a cart at most 50 lines: 20 digits leave room for all."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=20, decimal_places=2, **kwargs)


@extend_schema_serializer(component_name="CartLineOutput")
class CartLineOutputSerializer(serializers.Serializer):
    """A line: its name and price are the products service's now. A product that no longer
    is on sale (retired, or unknown) is ``available: false``, with no name or price."""

    product_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    unit_price = MoneyField(allow_null=True)
    quantity = serializers.IntegerField()
    line_total = MoneyField(allow_null=True)
    available = serializers.BooleanField()


@extend_schema_serializer(component_name="CartOutput")
class CartOutputSerializer(serializers.Serializer):
    """A cart: its lines by product id, the subtotal of those available, how many items it
    holds, and when it expires (no cart yet for a user: null)."""

    id = serializers.CharField(
        help_text="A guest's cart id (send it in X-Cart-ID), or user:<id> for a user's cart."
    )
    items = CartLineOutputSerializer(many=True)
    subtotal = MoneyField()
    item_count = serializers.IntegerField(help_text="The quantities of every line, added up.")
    expires_at = serializers.DateTimeField(allow_null=True)
