"""Views of the catalogue: public reads, staff writes."""

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue import selectors, services
from catalogue.filters import ProductFilter
from catalogue.models import Category, Product
from catalogue.serializers import (
    CategoryOutputSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
)
from souk_common.permissions import IsStaff, caller_is_staff

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class StaffWritesMixin(APIView):
    """Anyone reads; only staff write."""

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self.request.method in SAFE_METHODS else [IsStaff()]


def _valid(request: Request, *, partial: bool = False) -> dict[str, Any]:
    serializer = ProductInputSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ProductListCreateApi(StaffWritesMixin, ListAPIView):
    """``GET``: the catalogue, filtered, searched, ordered and paginated. ``POST``: staff add."""

    serializer_class = ProductOutputSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "description", "sku"]
    ordering_fields = ["price", "name", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list(include_retired=caller_is_staff(self.request))

    @extend_schema(request=ProductInputSerializer, responses={201: ProductOutputSerializer})
    def post(self, request: Request) -> Response:
        product = services.product_create(data=_valid(request))
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(StaffWritesMixin, APIView):
    """One product: anyone reads an active one; staff read any, change and retire."""

    def _product(self, request: Request, product_id: int) -> Product:
        return selectors.product_get(
            product_id=product_id, include_retired=caller_is_staff(request)
        )

    @extend_schema(responses=ProductOutputSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(ProductOutputSerializer(self._product(request, product_id)).data)

    @extend_schema(request=ProductInputSerializer, responses=ProductOutputSerializer)
    def put(self, request: Request, product_id: int) -> Response:
        product = services.product_update(
            product=self._product(request, product_id), data=_valid(request)
        )
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(request=ProductInputSerializer, responses=ProductOutputSerializer)
    def patch(self, request: Request, product_id: int) -> Response:
        product = services.product_update(
            product=self._product(request, product_id), data=_valid(request, partial=True)
        )
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, product_id: int) -> Response:
        services.product_retire(product=self._product(request, product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CategoryListApi(ListAPIView):
    """Every category (public)."""

    permission_classes = [AllowAny]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list()
