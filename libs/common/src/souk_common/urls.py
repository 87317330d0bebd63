"""URL patterns every service serves: health, metrics, OpenAPI schema, docs, admin, ``/``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from souk_common import health, metrics

#: Django's error views, answered with the envelope; assign them in each ROOT_URLCONF.
HANDLER400 = "souk_common.exception_handlers.bad_request"
HANDLER403 = "souk_common.exception_handlers.permission_denied"
HANDLER404 = "souk_common.exception_handlers.page_not_found"
HANDLER500 = "souk_common.exception_handlers.server_error"


def health_urlpatterns() -> list[URLPattern]:
    """``/health/live`` and ``/health/ready``."""
    return [
        path("health/live", health.live, name="health-live"),
        path("health/ready", health.ready, name="health-ready"),
    ]


def docs_urlpatterns() -> list[URLPattern]:
    """``/api/schema/`` (OpenAPI 3) and ``/api/docs/`` (Swagger UI, served offline)."""
    return [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    ]


def root_redirect(to: str) -> URLPattern:
    """``/``: a redirect to the page named ``to`` (a URL name), never a 404."""
    return path("", RedirectView.as_view(pattern_name=to), name="root")


def metrics_urlpatterns() -> list[URLPattern]:
    """``/metrics``, for Prometheus (never routed by the gateway)."""
    return [path("metrics", metrics.metrics_view, name="metrics")]


def service_urlpatterns() -> list[URLPattern | URLResolver]:
    """Everything a service serves besides its own API; ``/`` leads to its API docs."""
    return [
        root_redirect("docs"),
        *health_urlpatterns(),
        *metrics_urlpatterns(),
        *docs_urlpatterns(),
        path("admin/", admin.site.urls),
    ]
