"""The pagination every list uses: ``{count, next, previous, results}``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

if TYPE_CHECKING:
    from rest_framework.pagination import HtmlContextWithPageLinks  # the stubs' type only


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=``; asks above 100 are capped, not refused.

    ``next`` and ``previous`` are relative links (path and query): behind the
    gateway, an absolute link would name the service's internal address. So are
    the page links of the browsable API.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described: dict[str, Any] = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            described["properties"][link] = {
                "type": "string",
                "nullable": True,
                "format": "uri-reference",
                "example": "/api/products/?page=4",
            }
        return described

    def get_html_context(self) -> HtmlContextWithPageLinks:
        context = super().get_html_context()
        context["page_links"] = [
            link._replace(url=_path_and_query(link.url)) if link.url else link
            for link in context["page_links"]
        ]
        return context

    def get_next_link(self) -> str | None:
        if self.page is None or self.request is None or not self.page.has_next():
            return None
        url = self.request.get_full_path()
        return replace_query_param(url, self.page_query_param, self.page.next_page_number())

    def get_previous_link(self) -> str | None:
        if self.page is None or self.request is None or not self.page.has_previous():
            return None
        url = self.request.get_full_path()
        page_number = self.page.previous_page_number()
        if page_number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page_number)


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


def paginated_response(
    *,
    items: Iterable[Any],
    serializer_class: type[serializers.BaseSerializer[Any]],
    request: Request,
    view: APIView,
) -> Response:
    """One page of ``items`` (a queryset, usually), serialized, in the list envelope.

    What a list view of a plain ``APIView`` answers with: the page its query asks
    for (``?page=``, ``?page_size=``) of what its selector returned. The view names
    its ``pagination_class`` (usually :class:`PageNumberPagination`): drf-spectacular
    reads the same attribute to describe the envelope, so the schema cannot say
    "a list" while the answer is a page.
    """
    pagination_class: type[pagination.BasePagination] | None = getattr(
        view, "pagination_class", None
    )
    if pagination_class is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} answers a page: give it a pagination_class, "
            "which its schema describes too."
        )
    paginator = pagination_class()
    page: list[Any] | None = paginator.paginate_queryset(items, request, view=view)  # type: ignore[arg-type]
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
