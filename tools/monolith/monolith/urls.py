from django.urls import path

from monolith.views import OrderPlaceApi

urlpatterns = [path("api/orders/", OrderPlaceApi.as_view())]
