"""Input and output shapes of the internal reservations API."""

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

from inventory.models import Reservation, ReservationLine

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class ReservationItemInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class ReservationInputSerializer(serializers.Serializer):
    reference = serializers.RegexField(REFERENCE_PATTERN, max_length=64)
    items = serializers.ListField(
        child=ReservationItemInputSerializer(), min_length=1, max_length=100
    )
    commit = serializers.BooleanField(
        default=False,
        help_text="Sell at once: reserve and commit in one step, for a caller with "
        "nothing to do between the two.",
    )


class ReservationLineOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReservationLine
        fields = ["product_id", "name", "unit_price", "quantity"]


def reservation_payload(
    reservation: Reservation, lines: Iterable[ReservationLine]
) -> dict[str, Any]:
    """What the reservation endpoints answer, built by hand: these calls are on the hot
    path of every order, and this is several times cheaper than the serializer below,
    which describes the same shape for the OpenAPI schema."""
    return {
        "reference": reservation.reference,
        "status": reservation.status,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name,
                "unit_price": str(line.unit_price),
                "quantity": line.quantity,
            }
            for line in lines
        ],
    }


class ReservationOutputSerializer(serializers.ModelSerializer):
    items = ReservationLineOutputSerializer(source="lines", many=True, read_only=True)

    class Meta:
        model = Reservation
        fields = ["reference", "status", "items"]
