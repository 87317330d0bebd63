"""Query parameters of the product list, parsed and validated by django-filter."""

import re
from typing import Any, TypeVar

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django.db.models.lookups import IContains
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from catalogue.models import SEARCH_TEXT, Category, Product

MAX_IDS = 100
MAX_ID = 2**63 - 1
# ASCII digits only: str.isdigit() also says yes to "²" and "①", which int() refuses.
_ID = re.compile(r"[0-9]{1,19}")


class IdListField(forms.Field):
    """``1,2,3``: up to 100 whole numbers written in ASCII digits, as a list of ints."""

    default_error_messages = {
        "invalid": f"Up to {MAX_IDS} positive integer ids, comma-separated.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        parts = [part.strip() for part in str(value).split(",") if part.strip()]
        if len(parts) > MAX_IDS or not all(_ID.fullmatch(part) for part in parts):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return [int(part) for part in parts]


@extend_schema_field(OpenApiTypes.STR)
class IdsFilter(django_filters.Filter):
    """``?ids=1,2,3``: those products (ids that cannot exist match nothing)."""

    field_class = IdListField

    def filter(self, queryset: QuerySet[Product], value: list[int]) -> QuerySet[Product]:
        if not value:
            return queryset
        return queryset.filter(pk__in=[pid for pid in value if 0 < pid <= MAX_ID])


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(method="filter_category")
    min_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", min_value=0, max_value=10**8
    )
    max_price = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", min_value=0, max_value=10**8
    )
    in_stock = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_in_stock"
    )
    ids = IdsFilter()

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_category(
        self, queryset: QuerySet[Product], name: str, value: str
    ) -> QuerySet[Product]:
        """Products of the category with this slug, by its id: ``category_id = 3``, which
        the index on (category, price, id) answers in price order; through a join on the
        slug, the database could not use it."""
        category_id = Category.objects.filter(slug=value).values_list("pk", flat=True).first()
        return queryset.none() if category_id is None else queryset.filter(category_id=category_id)

    def filter_in_stock(
        self, queryset: QuerySet[Product], name: str, value: str
    ) -> QuerySet[Product]:
        return queryset.filter(stock__gt=0) if value == "true" else queryset.filter(stock=0)


_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")


class ProductSearchFilter(SearchFilter):
    """DRF's search, every term a case-insensitive substring of the product's
    :data:`~catalogue.models.SEARCH_TEXT` (its name, SKU or description): what DRF's
    would find with ``search_fields`` of the three, through one trigram index."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[_M, _R], view: APIView
    ) -> QuerySet[_M, _R]:
        for term in self.get_search_terms(request):
            queryset = queryset.filter(IContains(SEARCH_TEXT, term))
        return queryset
