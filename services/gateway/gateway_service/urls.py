"""URLs of the gateway's own pages (the proxied routes are handled before Django)."""

from django.contrib import admin
from django.urls import include, path

from souk_common.urls import (
    HANDLER400,
    HANDLER403,
    HANDLER404,
    HANDLER500,
    health_urlpatterns,
)

handler400 = HANDLER400
handler403 = HANDLER403
handler404 = HANDLER404
handler500 = HANDLER500

urlpatterns = [
    *health_urlpatterns(),
    path("admin/", admin.site.urls),
    path("", include("proxy.urls")),
]
