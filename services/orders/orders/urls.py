"""Routes of the orders app."""

from django.urls import URLPattern, path

from orders import apis

urlpatterns: list[URLPattern] = [
    path("api/orders/", apis.OrderListPlaceApi.as_view(), name="order-list"),
    path("api/checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("api/orders/<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("api/orders/<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
]
