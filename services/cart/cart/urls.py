"""Routes of the cart app."""

from django.urls import URLPattern, path, register_converter

from cart import apis


class IdConverter:
    """A positive id that fits a 64-bit integer; anything else names nothing (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number < 2**63:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns: list[URLPattern] = [
    path("api/cart/", apis.CartApi.as_view(), name="cart"),
    path("api/cart/merge/", apis.CartMergeApi.as_view(), name="cart-merge"),
    path("api/cart/items/<id:product_id>/", apis.CartLineApi.as_view(), name="cart-line"),
    path(
        "internal/carts/users/<id:user_id>/",
        apis.UserCartApi.as_view(),
        name="internal-user-cart",
    ),
    path(
        "internal/carts/users/<id:user_id>/merge/",
        apis.UserCartMergeApi.as_view(),
        name="internal-user-cart-merge",
    ),
]
