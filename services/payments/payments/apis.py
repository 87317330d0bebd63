"""Views of the payments service, one per operation: parse, call one selector, serialize.
Each nests the serializers of its own input and output; they name their component of the
OpenAPI schema (``Meta.ref_name``), which is part of what it publishes."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import selectors
from payments.models import Payment
from souk_common.auth import request_principal
from souk_common.pagination import PageNumberPagination, paginated_response
from souk_common.permissions import IsUser, caller_is_staff


class EmptyAsNullField(serializers.CharField):
    """A text that may be missing: ``null`` rather than ``""`` when it is."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return str(value) if value else None


class PaymentListApi(APIView):
    """Your payments (staff: anyone's), newest first; ``?order_id=`` names one order's.

    Another user's payment is not listed: their order's id finds nothing, as an order
    with no payment does."""

    permission_classes = [IsUser]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        order_id = serializers.UUIDField(required=False, help_text="One order's payment.")

        class Meta:
            ref_name = "PaymentListFilter"

    class OutputSerializer(serializers.ModelSerializer):
        # A pending payment is never committed, so never shown.
        status = serializers.ChoiceField(
            choices=[status for status in Payment.Status if status != Payment.Status.PENDING],
            read_only=True,
        )
        transaction_id = EmptyAsNullField(help_text="The provider's id of the charge.")
        reason = EmptyAsNullField(help_text="Why the charge was declined.")

        class Meta:
            model = Payment
            fields = [
                "id",
                "order_id",
                "status",
                "amount",
                "transaction_id",
                "reason",
                "created_at",
                "updated_at",
            ]
            ref_name = "PaymentOutput"

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        user_id = None if caller_is_staff(request) else request_principal(request).user_id
        return paginated_response(
            items=selectors.payment_list(
                user_id=user_id, order_id=filters.validated_data.get("order_id")
            ),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )
