"""URLs of the shipping service."""

from django.urls import include, path

from souk_common.urls import HANDLER400, HANDLER403, HANDLER404, HANDLER500, service_urlpatterns

handler400 = HANDLER400
handler403 = HANDLER403
handler404 = HANDLER404
handler500 = HANDLER500

urlpatterns = [
    *service_urlpatterns(),
    path("", include("shipping.urls")),
]
