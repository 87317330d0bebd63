"""Input and output shapes of the catalogue API."""

from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator, slug_re
from rest_framework import serializers

from catalogue.models import Category, Product

SKU_FORMAT = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "Use letters, digits, dots, dashes and underscores."
)


class CategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ProductOutputSerializer(serializers.ModelSerializer):
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


class CategorySlugField(serializers.SlugRelatedField[Category]):
    """A category named by its slug; text that cannot be a slug is refused before any query.

    PostgreSQL cannot even compare text holding a NUL byte, so such input would otherwise
    fail in the database instead of coming back as a validation error.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Category.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Category:
        if not isinstance(data, str):
            self.fail("invalid")
        if not slug_re.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class ProductInputSerializer(serializers.Serializer):
    """What staff send to create or change a product (PATCH: any subset)."""

    sku = serializers.CharField(max_length=64, validators=[SKU_FORMAT])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    # Absent on an update means "leave the stock as it is", never "set it to zero".
    stock = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    category = CategorySlugField()
    is_active = serializers.BooleanField(required=False)
