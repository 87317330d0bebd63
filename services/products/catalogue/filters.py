"""Query parameters of the product list, parsed and validated by django-filter."""

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from catalogue.models import Product

MAX_IDS = 100
MAX_ID = 2**63 - 1


class IdsFilter(django_filters.CharFilter):
    """``?ids=1,2,3``: up to 100 positive integer ids."""

    def filter(self, queryset: QuerySet[Product], value: str) -> QuerySet[Product]:
        if not value:
            return queryset
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if len(parts) > MAX_IDS or not all(part.isdigit() for part in parts):
            raise ValidationError(
                {"ids": [f"Up to {MAX_IDS} positive integer ids, comma-separated."]}
            )
        ids = [int(part) for part in parts]
        return queryset.filter(pk__in=[pid for pid in ids if 0 < pid <= MAX_ID])


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug")
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

    def filter_in_stock(
        self, queryset: QuerySet[Product], name: str, value: str
    ) -> QuerySet[Product]:
        return queryset.filter(stock__gt=0) if value == "true" else queryset.filter(stock=0)
