"""Routes of the cart app."""

from django.urls import URLPattern, path

from cart import apis

urlpatterns: list[URLPattern] = [
    path(
        "api/cart/examples/",
        apis.ExampleListCreateApi.as_view(),
        name="example-list",
    ),
    path(
        "api/cart/examples/<int:example_id>/",
        apis.ExampleDetailApi.as_view(),
        name="example-detail",
    ),
]
