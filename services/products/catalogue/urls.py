"""Routes of the catalogue app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
