"""Routes of the payments app."""

from django.urls import URLPattern, path

from payments import apis

urlpatterns: list[URLPattern] = [
    path("api/payments/", apis.PaymentListApi.as_view(), name="payment-list"),
]
