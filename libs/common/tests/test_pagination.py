"""Lists are paginated and page sizes above 100 are capped, not refused."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from souk_common.pagination import PageNumberPagination, paginated_response


def paginate(query):
    request = Request(APIRequestFactory().get("/items/", query))
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(list(range(250)), request)
    return paginator, page


def test_default_page_size():
    _, page = paginate({})

    assert len(page) == 20


def test_page_size_is_capped_at_100():
    paginator, page = paginate({"page_size": "1000"})

    assert len(page) == 100
    response = paginator.get_paginated_response(page).data
    assert list(response) == ["count", "next", "previous", "results"]
    assert response["count"] == 250
    assert response["next"] == "/items/?page=2&page_size=1000"


def test_links_are_relative_so_they_work_behind_the_gateway():
    paginator, page = paginate({"page": "2", "search": "tea"})
    response = paginator.get_paginated_response(page).data

    assert response["next"] == "/items/?page=3&search=tea"
    assert response["previous"] == "/items/?search=tea"


class NumberSerializer(serializers.Serializer):
    n = serializers.IntegerField()


class NumberListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=NumberSerializer(many=True))
    def get(self, request):
        items = [{"n": n} for n in range(7)]
        return paginated_response(
            items=items, serializer_class=NumberSerializer, request=request, view=self
        )


def test_a_plain_view_answers_one_page_of_what_its_selector_returned():
    request = Request(APIRequestFactory().get("/numbers/", {"page": "3", "page_size": "2"}))

    response = paginated_response(
        items=[{"n": n} for n in range(7)],
        serializer_class=NumberSerializer,
        request=request,
        view=NumberListApi(),
    )

    assert response.data == {
        "count": 7,
        "next": "/numbers/?page=4&page_size=2",
        "previous": "/numbers/?page=2&page_size=2",
        "results": [{"n": 4}, {"n": 5}],
    }


def test_the_schema_of_a_plain_list_view_describes_the_page_it_answers():
    schema = SchemaGenerator(patterns=[path("numbers/", NumberListApi.as_view())]).get_schema(
        request=None, public=True
    )

    answer = schema["paths"]["/numbers/"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedNumberList"
    }
    page = schema["components"]["schemas"]["PaginatedNumberList"]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}


def test_a_list_view_without_a_pagination_class_is_refused_before_it_answers():
    request = Request(APIRequestFactory().get("/numbers/"))

    with pytest.raises(ImproperlyConfigured, match="pagination_class"):
        paginated_response(
            items=[], serializer_class=NumberSerializer, request=request, view=APIView()
        )


def test_the_browsable_apis_page_links_are_relative_too():
    paginator, _ = paginate({"page": "2", "search": "tea"})

    links = [link.url for link in paginator.get_html_context()["page_links"] if link.url]

    assert links
    assert "/items/?page=3&search=tea" in links
    assert all(link.startswith("/items/?") for link in links)


@pytest.mark.django_db
def test_the_first_page_of_a_queryset_is_refused_as_django_refuses_a_page_that_is_no_number():
    from django.core.paginator import PageNotAnInteger

    from souk_common.pagination import CappedCountPaginator
    from tests.eventsapp.models import Receipt

    paginator = CappedCountPaginator(Receipt.objects.order_by("id"), 2)

    with pytest.raises(PageNotAnInteger):
        paginator.page(1.5)
    assert list(paginator.page(1.0)) == list(paginator.page("1")) == []
