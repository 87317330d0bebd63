"""What the orders API's views share: the order as every view shows it, and the
building blocks of their input serializers (each view nests its own, orders.apis).

Numbers must be JSON integers (not strings, floats or booleans), and text JSON strings;
unknown fields are refused, so a typo is not silently lost, except those a serializer
ignores.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from orders.models import Order, OrderLine


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not ``"3"``, ``3.0`` or ``true``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictCharField(serializers.CharField):
    """A JSON string, not ``42`` or ``true`` taken as one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictRegexField(StrictCharField, serializers.RegexField):
    """A JSON string matching a regular expression."""


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


@extend_schema_serializer(component_name="ShippingAddress")
class ShippingAddressOutputSerializer(serializers.Serializer):
    """Where a checkout's order goes; ``country`` is an ISO 3166-1 alpha-2 code."""

    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField(min_length=2, max_length=2)


@extend_schema_serializer(component_name="OrderPayment")
class PaymentOutputSerializer(serializers.Serializer):
    """What payments said about the order's payment."""

    status = serializers.ChoiceField(
        choices=[choice for choice in Order.PaymentStatus.values if choice]
    )
    transaction_id = serializers.CharField(allow_null=True)
    reason = serializers.CharField(
        allow_null=True, help_text="Why it failed (card_declined, ...); null otherwise."
    )


@extend_schema_serializer(component_name="OrderShipment")
class ShipmentOutputSerializer(serializers.Serializer):
    """The shipment shipping created for the order."""

    carrier = serializers.CharField()
    tracking_number = serializers.CharField()


class OrderOutputSerializer(serializers.ModelSerializer):
    """An order as every view shows it. A sale (``POST /api/orders/``) has no subtotal,
    shipping, payment or shipment (all null); a checkout's ``payment`` and ``shipment``
    are null until payments and shipping have said something about them."""

    items = OrderLineOutputSerializer(source="lines", many=True, read_only=True)
    shipping_address = ShippingAddressOutputSerializer(read_only=True, allow_null=True)
    payment = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "user_id",
            "status",
            "items",
            "subtotal",
            "shipping_cost",
            "total",
            "shipping_address",
            "payment",
            "shipment",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(PaymentOutputSerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        return payment_of(order)

    @extend_schema_field(ShipmentOutputSerializer(allow_null=True))
    def get_shipment(self, order: Order) -> dict[str, Any] | None:
        return shipment_of(order)


def payment_of(order: Order) -> dict[str, Any] | None:
    """The order's ``payment`` as the API shows it: null until payments has said how it went."""
    if not order.payment_status:
        return None
    return {
        "status": order.payment_status,
        "transaction_id": order.payment_transaction_id or None,
        "reason": order.payment_reason or None,
    }


def shipment_of(order: Order) -> dict[str, Any] | None:
    """The order's ``shipment`` as the API shows it: null until shipping has created one."""
    if not order.shipment_tracking_number:
        return None
    return {"carrier": order.shipment_carrier, "tracking_number": order.shipment_tracking_number}


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
        "subtotal": _decimal(order.subtotal),
        "shipping_cost": _decimal(order.shipping_cost),
        "total": _decimal(order.total),
        "shipping_address": order.shipping_address,
        "payment": payment_of(order),
        "shipment": shipment_of(order),
        "created_at": _datetime(order.created_at),
        "updated_at": _datetime(order.updated_at),
    }
