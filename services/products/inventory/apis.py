"""Internal views of the inventory: reservations, for services holding ``stock:reserve``.

One view per operation: parse, call one service, answer. Nested serializers name their
component of the OpenAPI schema (``Meta.ref_name``).
"""

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import services
from inventory.models import Reservation, ReservationLine
from souk_common.permissions import HasScope

# A reservation's reference (the order's id), in the body and in the URLs.
REFERENCE = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"


def reservation_answer(
    reservation: Reservation, lines: Iterable[ReservationLine]
) -> dict[str, Any]:
    """What the reservation views answer, in the shape of their ``OutputSerializer``, built
    by hand: these calls are on the hot path of every order, and this is several times
    cheaper than the serializer, which describes the shape in the schema."""
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


class InternalApi(APIView):
    permission_classes = [HasScope("stock:reserve")]


class ReservationCreateApi(InternalApi):
    """Hold stock for all lines or none (and sell it at once with ``commit``); the same
    reference again answers the same."""

    class InputSerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            product_id = serializers.IntegerField(min_value=1)
            quantity = serializers.IntegerField(min_value=1, max_value=100_000)

            class Meta:
                ref_name = "ReservationItemInput"

        reference = serializers.RegexField(rf"^{REFERENCE}$", max_length=64)
        items = serializers.ListField(child=ItemSerializer(), min_length=1, max_length=100)
        commit = serializers.BooleanField(
            default=False,
            help_text="Sell at once: reserve and commit in one step, for a caller with "
            "nothing to do between the two.",
        )

        class Meta:
            ref_name = "ReservationInput"

    class OutputSerializer(serializers.ModelSerializer):
        class LineSerializer(serializers.ModelSerializer):
            class Meta:
                model = ReservationLine
                fields = ["product_id", "name", "unit_price", "quantity"]
                ref_name = "ReservationLineOutput"

        items = LineSerializer(source="lines", many=True, read_only=True)

        class Meta:
            model = Reservation
            fields = ["reference", "status", "items"]
            ref_name = "ReservationOutput"

    @extend_schema(
        request=InputSerializer,
        responses={status.HTTP_201_CREATED: OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation, lines = services.reservation_reserve(
            reference=serializer.validated_data["reference"],
            items=[services.RequestedItem(**item) for item in serializer.validated_data["items"]],
            commit=serializer.validated_data["commit"],
        )
        return Response(reservation_answer(reservation, lines), status=status.HTTP_201_CREATED)


class ReservationCommitApi(InternalApi):
    """Held stock becomes sold (idempotent)."""

    OutputSerializer = ReservationCreateApi.OutputSerializer

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, reference: str) -> Response:
        return Response(reservation_answer(*services.reservation_commit(reference=reference)))


class ReservationReleaseApi(InternalApi):
    """Stock goes back on the shelf, once, however often this is called."""

    OutputSerializer = ReservationCreateApi.OutputSerializer

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: Request, reference: str) -> Response:
        return Response(reservation_answer(*services.reservation_release(reference=reference)))
