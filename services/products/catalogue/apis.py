"""Views of the catalogue, one per operation: parse, call one service or selector, serialize.

Anyone reads; only staff write. Nested serializers name their component of the OpenAPI
schema (``Meta.ref_name``): a schema's names are part of what it publishes.

Reads of products carry an ``ETag`` (a hash of the answer as sent, so it changes with
anything in it, stock included) and answer ``If-None-Match`` with a bodiless 304: a
client polling the catalogue downloads it again only when it changed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.validators import RegexValidator, slug_re
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.views.decorators.http import conditional_page
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue import selectors, services
from catalogue.filters import ProductFilter, ProductSearchFilter
from catalogue.models import Category, Product
from souk_common.apis import OperationsApi
from souk_common.permissions import IsStaff, caller_is_staff

if TYPE_CHECKING:
    pass


@method_decorator(conditional_page, name="dispatch")
class ProductDetailApi(APIView):
    """One product: anyone reads an active one; staff read a retired one too."""

    permission_classes = [AllowAny]

    # A product as every view of the catalogue shows it.
    class OutputSerializer(serializers.ModelSerializer):
        category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(
            slug_field="slug", read_only=True
        )

        class Meta:
            model = Product
            fields = [
                "id",
                "sku",
                "name",
                "description",
                "price",
                "stock",
                "category",
                "is_active",
                "created_at",
                "updated_at",
            ]
            ref_name = "ProductOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.product_get(
            product_id=product_id, include_retired=caller_is_staff(request)
        )
        return Response(self.OutputSerializer(product).data)


@method_decorator(conditional_page, name="dispatch")
class ProductListApi(ListAPIView):
    """The catalogue, filtered, searched, ordered and paginated; retired products for staff.

    The query parameters are parsed by django-filter, DRF's usual library for a catalogue:
    one declaration (catalogue.filters.ProductFilter, and DRF's search and ordering
    filters) validates each parameter (a 400 naming it) and describes it in the schema.
    """

    permission_classes = [AllowAny]
    serializer_class = ProductDetailApi.OutputSerializer
    filter_backends = [DjangoFilterBackend, ProductSearchFilter, OrderingFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "description", "sku"]  # for the schema; see ProductSearchFilter
    ordering_fields = ["price", "name", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list(include_retired=caller_is_staff(self.request))


SKU_FORMAT = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "Use letters, digits, dots, dashes and underscores."
)


class CategorySlugField(serializers.SlugRelatedField[Category]):
    """A category named by its slug; text that cannot be a slug is refused before any query.

    PostgreSQL cannot even compare text holding a NUL byte, so such input would otherwise
    fail in the database instead of coming back as a validation error.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=selectors.category_list(), **kwargs)

    def to_internal_value(self, data: Any) -> Category:
        if not isinstance(data, str):
            self.fail("invalid")
        if not slug_re.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class ProductCreateApi(APIView):
    """Staff add a product; its initial stock enters the ledger."""

    permission_classes = [IsStaff]

    class InputSerializer(serializers.Serializer):
        """What staff send to create or change a product (PATCH: any subset)."""

        sku = serializers.CharField(max_length=64, validators=[SKU_FORMAT])
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
        price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
        # Absent on an update means "leave the stock as it is", never "set it to zero".
        stock = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
        category = CategorySlugField()
        is_active = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "ProductInput"

    OutputSerializer = ProductDetailApi.OutputSerializer

    @extend_schema(request=InputSerializer, responses={status.HTTP_201_CREATED: OutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(data=serializer.validated_data)
        return Response(self.OutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductUpdateApi(APIView):
    """Staff change a product (``PUT``: all of it, ``PATCH``: what is sent); a new stock
    figure is recorded in the ledger."""

    permission_classes = [IsStaff]
    InputSerializer = ProductCreateApi.InputSerializer
    OutputSerializer = ProductDetailApi.OutputSerializer

    def _update(self, request: Request, product_id: int, *, partial: bool) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(
            product=selectors.product_get(product_id=product_id, include_retired=True),
            data=serializer.validated_data,
        )
        return Response(self.OutputSerializer(product).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=False)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=True)


class ProductRetireApi(APIView):
    """Staff retire a product: it leaves the catalogue; past orders keep it."""

    permission_classes = [IsStaff]

    @extend_schema(responses={status.HTTP_204_NO_CONTENT: None})
    def delete(self, request: Request, product_id: int) -> Response:
        services.product_retire(
            product=selectors.product_get(product_id=product_id, include_retired=True)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# Django routes by path alone: each URL with several operations is one view made of them.


class ProductListCreateApi(OperationsApi, ProductListApi, ProductCreateApi):
    """``GET``: the catalogue, filtered, searched, ordered and paginated. ``POST``: staff add."""

    operations = {"GET": ProductListApi, "POST": ProductCreateApi}


class ProductDetailUpdateRetireApi(
    OperationsApi, ProductDetailApi, ProductUpdateApi, ProductRetireApi
):
    """One product: anyone reads an active one; staff read any, change and retire."""

    operations = {
        "GET": ProductDetailApi,
        "DELETE": ProductRetireApi,
        "PUT": ProductUpdateApi,
        "PATCH": ProductUpdateApi,
    }


class CategoryListApi(ListAPIView):
    """Every category (public)."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Category
            fields = ["id", "name", "slug"]
            ref_name = "CategoryOutput"

    serializer_class = OutputSerializer

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()
