"""Routes of the payments app."""

from django.urls import URLPattern, path

from payments import apis

urlpatterns: list[URLPattern] = [
    path(
        "api/payments/examples/",
        apis.ExampleListCreateApi.as_view(),
        name="example-list",
    ),
    path(
        "api/payments/examples/<int:example_id>/",
        apis.ExampleDetailApi.as_view(),
        name="example-detail",
    ),
]
