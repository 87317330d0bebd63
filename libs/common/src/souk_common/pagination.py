"""The pagination every list uses: ``{count, next, previous, results}``."""

from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=``; asks above 100 are capped, not refused."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
