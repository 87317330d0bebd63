"""Internal views of the inventory: reservations, for services holding ``stock:reserve``."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import services
from inventory.serializers import (
    ReservationInputSerializer,
    ReservationOutputSerializer,
    reservation_payload,
)
from souk_common.permissions import HasScope


class InternalApi(APIView):
    permission_classes = [HasScope("stock:reserve")]


class ReservationCreateApi(InternalApi):
    """Hold stock for all lines or none (and sell it at once with ``commit``); the same
    reference again answers the same."""

    @extend_schema(request=ReservationInputSerializer, responses={201: ReservationOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation, lines = services.reservation_reserve(
            reference=serializer.validated_data["reference"],
            items=[services.RequestedItem(**item) for item in serializer.validated_data["items"]],
            commit=serializer.validated_data["commit"],
        )
        return Response(reservation_payload(reservation, lines), status=status.HTTP_201_CREATED)


class ReservationCommitApi(InternalApi):
    """Held stock becomes sold (idempotent)."""

    @extend_schema(request=None, responses=ReservationOutputSerializer)
    def post(self, request: Request, reference: str) -> Response:
        return Response(reservation_payload(*services.reservation_commit(reference=reference)))


class ReservationReleaseApi(InternalApi):
    """Stock goes back on the shelf, once, however often this is called."""

    @extend_schema(request=None, responses=ReservationOutputSerializer)
    def post(self, request: Request, reference: str) -> Response:
        return Response(reservation_payload(*services.reservation_release(reference=reference)))
