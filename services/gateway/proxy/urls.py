"""The gateway's Django pages: the public listener passes only /api/docs/ (and the health
probes and static files) to Django; /health and /api/schema/ it answers itself."""

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularSwaggerView

urlpatterns: list[URLPattern] = [
    path("api/docs/", SpectacularSwaggerView.as_view(url="/api/schema/"), name="docs"),
]
