"""Routes of the gateway: the public prefixes of each upstream, and health."""

from django.urls import URLPattern, path, re_path

from proxy import apis

urlpatterns: list[URLPattern] = [
    path("health", apis.health, name="health"),
    re_path(r"^api/(?:auth|users)/", apis.proxy, {"upstream": "users"}),
    re_path(r"^api/products/", apis.proxy, {"upstream": "products"}),
    re_path(r"^api/orders/", apis.proxy, {"upstream": "orders"}),
]
