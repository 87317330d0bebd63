"""Views of the orders service: parse, call one service or selector, serialize."""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import idempotency, selectors, services
from orders.models import Order
from orders.serializers import (
    OrderCreateInputSerializer,
    OrderListFilterSerializer,
    OrderOutputSerializer,
    order_payload,
)
from souk_common.auth import request_principal
from souk_common.permissions import IsUser, caller_is_staff

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Same key and body again: the first answer again, one order (24 hours).",
)


def _scope(request: Request) -> int | None:
    """Whose orders the caller may see: their own, or everyone's for staff (staff now)."""
    caller = request_principal(request)
    return None if caller_is_staff(request) else caller.user_id


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationError({"Idempotency-Key": ["Use 1 to 255 printable characters."]})
    return key


class OrderListCreateApi(ListAPIView):
    """``GET``: your orders (staff: everyone's, ``?user_id=``). ``POST``: place one."""

    permission_classes = [IsUser]
    serializer_class = OrderOutputSerializer

    @extend_schema(parameters=[OrderListFilterSerializer])
    def get(self, request: Request) -> Response:
        return super().get(request)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        user_id = _scope(self.request)
        if user_id is None:  # staff: everyone's orders, or one user's
            filters = OrderListFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            user_id = filters.validated_data.get("user_id")
        return selectors.order_list(user_id=user_id)

    @extend_schema(
        request=OrderCreateInputSerializer,
        responses={201: OrderOutputSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        serializer = OrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_id = request_principal(request).user_id or 0
        lines = [services.RequestedLine(**item) for item in serializer.validated_data["items"]]
        key = _idempotency_key(request)

        def place(claim: services.Claim | None = None) -> idempotency.Answer:
            placed = services.order_place(user_id=user_id, lines=lines, claim=claim)
            return idempotency.Answer(
                status.HTTP_201_CREATED, order_payload(placed.order, placed.lines)
            )

        if key is None:
            answer = place()
        else:
            answer = idempotency.answer_once(user_id=user_id, key=key, place=place)
        return Response(answer.body, status=answer.status, headers=answer.headers)


class OrderDetailApi(APIView):
    """One of your orders (staff: any); anyone else's is 404."""

    permission_classes = [IsUser]

    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(order_id=order_id, user_id=_scope(request))
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    """Cancel a confirmed order and return its stock; again: 200, nothing returned twice."""

    permission_classes = [IsUser]

    @extend_schema(request=None, responses=OrderOutputSerializer)
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(order_id=order_id, user_id=_scope(request))
        order = services.order_cancel(order=order)
        fresh = Order.objects.prefetch_related("lines").get(pk=order.pk)
        return Response(OrderOutputSerializer(fresh).data)
