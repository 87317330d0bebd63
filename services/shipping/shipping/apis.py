"""Views of the shipping service, one per operation: parse, call one service or selector,
serialize. Each nests the serializers of its own input and output; they name their
component of the OpenAPI schema (``Meta.ref_name``), which is part of what it publishes.

Anyone may ask for a quote and for the countries shipped to; the internal quote, for
checkout, needs a service token with the ``shipping:quote`` scope.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shipping import selectors, services
from shipping.models import ShippingRate
from souk_common.pagination import PageNumberPagination, paginated_response
from souk_common.permissions import HasScope

MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_ID = 2**63 - 1


class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code, in any case (``gb``), answered in capitals (``GB``)."""

    default_error_messages = {
        "country": "Use an ISO 3166-1 alpha-2 country code, such as GB.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2, min_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data)
        if not (code.isascii() and code.isalpha()):
            self.fail("country")
        return code.upper()


class AddressInputSerializer(serializers.Serializer):
    """Where the order goes: its country decides the rate; the postal code is not used
    by today's rules and may be left out."""

    country = CountryCodeField()
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)

    class Meta:
        ref_name = "ShippingAddressInput"


class QuoteOutputSerializer(serializers.Serializer):
    """A quote: the cost (``0.00`` when the order ships free), who carries it and in how
    many working days; ``free_over`` is the subtotal from which the country ships free."""

    country = serializers.CharField()
    cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    carrier = serializers.CharField()
    estimated_days = serializers.IntegerField()
    free_over = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)

    class Meta:
        ref_name = "ShippingQuoteOutput"


class QuoteApi(APIView):
    """What shipping these lines to this address costs, at the catalogue's current prices.

    ``cost = base_cost + per_item_cost * item_count``, and ``0.00`` when the lines'
    subtotal is at least the country's ``free_over`` (see ``GET /api/shipping/countries/``).
    """

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)

            class Meta:
                ref_name = "ShippingQuoteLineInput"

        items = serializers.ListField(child=LineSerializer(), min_length=1, max_length=MAX_LINES)
        address = AddressInputSerializer()

        class Meta:
            ref_name = "ShippingQuoteInput"

        def validate_items(self, items: list[dict[str, int]]) -> list[dict[str, int]]:
            merged: dict[int, int] = {}
            for item in items:
                merged[item["product_id"]] = merged.get(item["product_id"], 0) + item["quantity"]
            too_many = sorted(pid for pid, quantity in merged.items() if quantity > MAX_QUANTITY)
            if too_many:
                raise serializers.ValidationError(
                    f"At most {MAX_QUANTITY} of one product (products {too_many})."
                )
            return items

    @extend_schema(request=InputSerializer, responses=QuoteOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = services.quote_for_items(
            country=serializer.validated_data["address"]["country"],
            lines=[services.QuoteLine(**item) for item in serializer.validated_data["items"]],
        )
        return Response(QuoteOutputSerializer(quote).data)


class InternalQuoteApi(APIView):
    """The quote for an order whose subtotal and item count the caller knows (checkout,
    from the stock it reserved): the same rule, no call to products."""

    permission_classes = [HasScope("shipping:quote")]

    class InputSerializer(serializers.Serializer):
        subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        item_count = serializers.IntegerField(min_value=1, max_value=MAX_LINES * MAX_QUANTITY)
        address = AddressInputSerializer()

        class Meta:
            ref_name = "ShippingInternalQuoteInput"

    @extend_schema(request=InputSerializer, responses=QuoteOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = services.quote_calculate(
            country=serializer.validated_data["address"]["country"],
            subtotal=serializer.validated_data["subtotal"],
            item_count=serializer.validated_data["item_count"],
        )
        return Response(QuoteOutputSerializer(quote).data)


class CountryListApi(APIView):
    """The countries the shop ships to, with their rates, by country code (for a
    storefront's address form and its shipping notes)."""

    permission_classes = [AllowAny]
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer):
        name = serializers.CharField(source="country_name")

        class Meta:
            model = ShippingRate
            fields = [
                "country",
                "name",
                "carrier",
                "base_cost",
                "per_item_cost",
                "free_over",
                "estimated_days",
            ]
            ref_name = "ShippingCountryOutput"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            items=selectors.rate_list(),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )
