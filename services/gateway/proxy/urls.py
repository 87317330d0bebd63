"""Routes of the gateway's own pages; the proxied prefixes never reach Django."""

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularSwaggerView

from proxy import apis

urlpatterns: list[URLPattern] = [
    path("health", apis.health, name="health"),
    path("api/schema/", apis.schema, name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
