"""Routes of the orders app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
