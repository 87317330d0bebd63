"""Routes of the notifications app."""

from django.urls import URLPattern, path

from notifications import apis

urlpatterns: list[URLPattern] = [
    path(
        "api/notifications/examples/",
        apis.ExampleListCreateApi.as_view(),
        name="example-list",
    ),
    path(
        "api/notifications/examples/<int:example_id>/",
        apis.ExampleDetailApi.as_view(),
        name="example-detail",
    ),
]
