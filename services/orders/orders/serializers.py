"""What the orders API's views share: the order as every view shows it, and the
building blocks of their input serializers (each view nests its own, orders.apis).

Numbers must be JSON integers (not strings, floats or booleans); unknown fields
are refused, so a typo is not silently lost, except those a serializer ignores.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from orders.models import Order, OrderLine


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not ``"3"``, ``3.0`` or ``true``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class KnownFieldsSerializer(serializers.Serializer):
    """Refuses fields it does not know, except those listed in ``ignored``."""

    ignored: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields) - self.ignored
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)


class OrderLineOutputSerializer(serializers.ModelSerializer):
    line_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = OrderLine
        fields = ["product_id", "name", "unit_price", "quantity", "line_total"]


class OrderOutputSerializer(serializers.ModelSerializer):
    items = OrderLineOutputSerializer(source="lines", many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "user_id", "status", "items", "total", "created_at", "updated_at"]


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text  # as DRF writes it


def order_payload(order: Order, lines: Iterable[OrderLine]) -> dict[str, Any]:
    """An order as ``OrderOutputSerializer`` shows it, built by hand from what is in memory.

    Placing an order answers with this: it is on the hot path of every order, and
    several times cheaper than the serializer, which still documents the shape.
    """
    return {
        "id": str(order.id),
        "user_id": order.user_id,
        "status": order.status,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "unit_price": _decimal(line.unit_price),
                "quantity": line.quantity,
                "line_total": _decimal(line.line_total),
            }
            for line in lines
        ],
        "total": _decimal(order.total),
        "created_at": _datetime(order.created_at),
        "updated_at": _datetime(order.updated_at),
    }
