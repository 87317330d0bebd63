"""URLs of the gateway's own pages (the proxied routes are handled before Django).

These are the admin listener's; of them the public one passes only the health probes,
``/api/docs/`` and static files to Django (proxy/app.py), and answers ``/`` itself.
"""

from django.contrib import admin
from django.urls import include, path

from souk_common.urls import (
    HANDLER400,
    HANDLER403,
    HANDLER404,
    HANDLER500,
    health_urlpatterns,
    metrics_urlpatterns,
    root_redirect,
)

handler400 = HANDLER400
handler403 = HANDLER403
handler404 = HANDLER404
handler500 = HANDLER500

urlpatterns = [
    root_redirect("admin:index"),
    *health_urlpatterns(),
    # The public listener's workers' metrics too: they write to the same folder.
    *metrics_urlpatterns(),
    path("admin/", admin.site.urls),
    path("", include("proxy.urls")),
]
