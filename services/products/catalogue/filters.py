"""Query parameters of the product list, parsed and validated by django-filter."""

import django_filters
from django.db.models import QuerySet

from catalogue.models import Product


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """``?ids=1,2,3``."""


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    in_stock = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_in_stock"
    )
    ids = NumberInFilter(field_name="id", lookup_expr="in")

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_in_stock(
        self, queryset: QuerySet[Product], name: str, value: str
    ) -> QuerySet[Product]:
        return queryset.filter(stock__gt=0) if value == "true" else queryset.filter(stock=0)
