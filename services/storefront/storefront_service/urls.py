"""URLs of the storefront."""

from django.urls import include, path

from souk_common import health, metrics

handler404 = "storefront.views.page_not_found"
handler500 = "storefront.views.server_error"

urlpatterns = [
    # Ready means able to serve pages: the storefront has no database, and a gateway that
    # is down is a page it serves (a friendly one), not a reason to leave the rotation.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.live, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("storefront.urls")),
]
