"""Routes of the shipping app."""

from django.urls import URLPattern, path

from shipping import apis

urlpatterns: list[URLPattern] = [
    path(
        "api/shipping/examples/",
        apis.ExampleListCreateApi.as_view(),
        name="example-list",
    ),
    path(
        "api/shipping/examples/<int:example_id>/",
        apis.ExampleDetailApi.as_view(),
        name="example-detail",
    ),
]
