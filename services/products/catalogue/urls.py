"""Routes of the catalogue (public API)."""

from django.urls import URLPattern, path

from catalogue import apis

urlpatterns: list[URLPattern] = [
    path("api/products/", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("api/products/categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path(
        "api/products/<int:product_id>/",
        apis.ProductDetailUpdateRetireApi.as_view(),
        name="product-detail",
    ),
]
