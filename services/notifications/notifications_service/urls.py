"""URLs of the notifications service: health, schema, docs and admin, and no API of its own
(it is reached through events, never over HTTP; contract section 12)."""

from souk_common.urls import HANDLER400, HANDLER403, HANDLER404, HANDLER500, service_urlpatterns

handler400 = HANDLER400
handler403 = HANDLER403
handler404 = HANDLER404
handler500 = HANDLER500

urlpatterns = service_urlpatterns()
