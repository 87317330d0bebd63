"""Routes of the inventory (internal API: never routed by the gateway)."""

from django.urls import URLPattern, path, re_path

from inventory import apis

REFERENCE = rf"(?P<reference>{apis.REFERENCE})"

urlpatterns: list[URLPattern] = [
    path("internal/reservations/", apis.ReservationCreateApi.as_view(), name="reservation-create"),
    re_path(
        rf"^internal/reservations/{REFERENCE}/commit/$",
        apis.ReservationCommitApi.as_view(),
        name="reservation-commit",
    ),
    re_path(
        rf"^internal/reservations/{REFERENCE}/release/$",
        apis.ReservationReleaseApi.as_view(),
        name="reservation-release",
    ),
]
