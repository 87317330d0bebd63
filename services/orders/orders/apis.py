"""Views of the orders service, one per operation: parse, call one service or selector,
serialize. Each nests the serializers of its own input; the order they answer with is
the one shape every view shows (orders.serializers)."""

import uuid

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import idempotency, selectors, services
from orders.countries import ISO_3166_ALPHA_2
from orders.models import Order
from orders.serializers import (
    KnownFieldsSerializer,
    OrderOutputSerializer,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    order_payload,
)
from souk_common.apis import OperationsApi
from souk_common.auth import request_principal
from souk_common.pagination import PageNumberPagination, paginated_response
from souk_common.permissions import IsUser, caller_is_staff

MAX_LINES = 50
MAX_QUANTITY = 1000

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Same key and body again: the first answer again, one order (24 hours). Keys are "
        "per user, shared by orders and checkout: a key used for one is refused (422) for "
        "the other."
    ),
)


ORDER_LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[status.HTTP_202_ACCEPTED],
    description="The order: /api/orders/{id}/.",
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


class OrderListApi(APIView):
    permission_classes = [IsUser]
    pagination_class = PageNumberPagination

    @extend_schema_serializer(component_name="OrderListFilter")
    class FilterSerializer(serializers.Serializer):
        """Query parameters of the order list."""

        user_id = serializers.IntegerField(
            min_value=1, max_value=2**63 - 1, required=False, help_text="Staff only."
        )
        status = serializers.ChoiceField(choices=Order.Status.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=OrderOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your orders (staff: everyone's, or one user's with ``?user_id=``), newest first;
        ``?status=`` only those in that status."""
        user_id = _scope(request)
        query = request.query_params.dict()
        if user_id is not None:
            query.pop("user_id", None)  # a customer's list is theirs, whatever they ask
        filters = self.FilterSerializer(data=query)
        filters.is_valid(raise_exception=True)
        if user_id is None:  # staff: everyone's orders, or one user's
            user_id = filters.validated_data.get("user_id")
        return paginated_response(
            items=selectors.order_list(
                user_id=user_id, status=filters.validated_data.get("status")
            ),
            serializer_class=OrderOutputSerializer,
            request=request,
            view=self,
        )


class OrderPlaceApi(APIView):
    permission_classes = [IsUser]

    @extend_schema_serializer(component_name="OrderCreateInput")
    class InputSerializer(KnownFieldsSerializer):
        """The lines to order. A price, name, total, status or owner sent with the order
        or its lines is ignored, never trusted; any other unknown field is refused."""

        @extend_schema_serializer(component_name="OrderLineInput")
        class LineSerializer(KnownFieldsSerializer):
            """A product and how many of it; its name and price are the products service's."""

            ignored = frozenset({"name", "price", "unit_price", "line_total"})

            product_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)
            quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)

        ignored = frozenset(
            {"id", "total", "status", "user_id", "user", "owner", "created_at", "updated_at"}
        )

        items = serializers.ListField(child=LineSerializer(), min_length=1, max_length=MAX_LINES)

        def validate_items(self, items: list[dict[str, int]]) -> list[dict[str, int]]:
            merged: dict[int, int] = {}
            for item in items:
                merged[item["product_id"]] = merged.get(item["product_id"], 0) + item["quantity"]
            too_many = [pid for pid, quantity in merged.items() if quantity > MAX_QUANTITY]
            if too_many:
                raise serializers.ValidationError(
                    f"At most {MAX_QUANTITY} of one product per order (products {too_many})."
                )
            return items

    @extend_schema(
        request=InputSerializer,
        responses={status.HTTP_201_CREATED: OrderOutputSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        """Place an order: its stock is reserved and sold at once, or nothing is.

        With an ``Idempotency-Key``, the same body again gets the first answer again.
        """
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        caller = request_principal(request)
        user_id = caller.user_id or 0
        lines = [services.RequestedLine(**item) for item in serializer.validated_data["items"]]
        key = _idempotency_key(request)

        def place(claim: services.Claim | None = None) -> idempotency.Answer:
            placed = services.order_place(
                user_id=user_id, lines=lines, username=caller.username, claim=claim
            )
            return idempotency.Answer(
                status.HTTP_201_CREATED, order_payload(placed.order, placed.lines)
            )

        if key is None:
            answer = place()
        else:
            answer = idempotency.answer_once(user_id=user_id, key=key, place=place)
        return Response(answer.body, status=answer.status, headers=answer.headers)


class OrderListPlaceApi(OperationsApi, OrderListApi, OrderPlaceApi):
    """``/api/orders/``: Django routes by path alone, so this one view is both operations
    (each still its own view, with its own serializers)."""

    operations = {"GET": OrderListApi, "POST": OrderPlaceApi}


class CheckoutApi(APIView):
    permission_classes = [IsUser]

    @extend_schema_serializer(component_name="CheckoutInput")
    class InputSerializer(KnownFieldsSerializer):
        """The shipping address and the payment provider's token; the lines are the cart's.
        A price, total, status or owner sent along is ignored, never trusted; any other
        unknown field is refused."""

        @extend_schema_serializer(component_name="ShippingAddressInput")
        class AddressSerializer(KnownFieldsSerializer):
            """Where the order goes; ``country`` is an ISO 3166-1 alpha-2 code (``FR``)."""

            name = StrictCharField(max_length=200)
            line1 = StrictCharField(max_length=200)
            line2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
            city = StrictCharField(max_length=100)
            postal_code = StrictCharField(max_length=20)
            country = StrictCharField(min_length=2, max_length=2)

            def validate_country(self, country: str) -> str:
                code = country.upper()
                if code not in ISO_3166_ALPHA_2:
                    raise serializers.ValidationError(
                        "Use an ISO 3166-1 alpha-2 country code, such as FR or GB."
                    )
                return code

        ignored = frozenset(
            {
                "id",
                "status",
                "user_id",
                "user",
                "owner",
                "subtotal",
                "shipping_cost",
                "total",
                "created_at",
                "updated_at",
            }
        )

        cart_id = StrictRegexField(
            r"^[A-Za-z0-9_-]{1,128}$",
            required=False,
            help_text="A guest cart, merged into your own cart before checking out.",
        )
        shipping_address = AddressSerializer()
        payment_token = StrictRegexField(
            r"^[!-~]{1,128}$",
            help_text="The payment provider's token for the card (e.g. tok_visa); never a card.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={status.HTTP_202_ACCEPTED: OrderOutputSerializer},
        parameters=[IDEMPOTENCY_KEY, ORDER_LOCATION],
    )
    def post(self, request: Request) -> Response:
        """Check out your cart: its stock is held and the order awaits its payment (202,
        ``Location`` the order); the cart is emptied. Follow the order's ``status``.

        With an ``Idempotency-Key``, the same body again gets the first answer again.
        """
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checkout = serializer.validated_data
        caller = request_principal(request)
        user_id = caller.user_id or 0
        key = _idempotency_key(request)

        def place(claim: services.Claim | None = None) -> idempotency.Answer:
            placed = services.order_checkout(
                user_id=user_id,
                shipping_address=services.ShippingAddress(**checkout["shipping_address"]),
                payment_token=checkout["payment_token"],
                cart_id=checkout.get("cart_id"),
                username=caller.username,
                claim=claim,
            )
            order_id = placed.order.id
            return idempotency.Answer(
                status.HTTP_202_ACCEPTED,
                order_payload(placed.order, placed.lines),
                {"Location": reverse("order-detail", kwargs={"order_id": order_id})},
            )

        if key is None:
            answer = place()
        else:
            answer = idempotency.answer_once(
                user_id=user_id,
                key=key,
                place=place,
                fingerprint=idempotency.checkout_fingerprint(dict(checkout)),
            )
        return Response(answer.body, status=answer.status, headers=answer.headers)


class OrderDetailApi(APIView):
    """One of your orders (staff: any); anyone else's is 404."""

    permission_classes = [IsUser]

    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(order_id=order_id, user_id=_scope(request))
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    """Cancel an order not yet shipped (a confirmed order; a checkout awaiting payment or
    paid, whose payment is then refunded) and return its stock; again: 200, nothing
    returned twice. A shipped order, or one whose payment failed: 409."""

    permission_classes = [IsUser]

    @extend_schema(request=None, responses=OrderOutputSerializer)
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        order = selectors.order_get(order_id=order_id, user_id=_scope(request))
        order = services.order_cancel(order=order)  # its lines as read, its status as now
        return Response(OrderOutputSerializer(order).data)
