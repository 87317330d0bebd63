"""The pagination every list uses: ``{count, next, previous, results}``.

Its cost does not grow with the table. ``count`` is exact up to
:data:`COUNT_LIMIT` (1,000) results and says 1,000 for more: counting further
would read every matching row, on every page, for a number nobody reads exactly
(the convention of shops and search engines: "1,000+ results"). Page numbers
reach those first 1,000 results; past them, the last page's ``next`` link
carries a ``cursor`` (keyset pagination: the page after the last row's position
in the list's order, found through the index of that order), and ``next``
links go on with cursors to the end, each page as cheap as the first.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.paginator import Page, Paginator
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model, Q, QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

if TYPE_CHECKING:
    from rest_framework.pagination import HtmlContextWithPageLinks  # the stubs' type only

COUNT_LIMIT = 1_000


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, counting a queryset's rows up to :data:`COUNT_LIMIT` only.

    ``SELECT COUNT(*) FROM (SELECT id ... LIMIT 1001)``: the database stops past the
    limit instead of reading every match. A list in memory is counted whole.
    """

    count_limit = COUNT_LIMIT

    @cached_property
    def _counted(self) -> int:
        """Rows up to one past the limit: one more tells that the list goes on."""
        if isinstance(self.object_list, QuerySet):
            return self.object_list.values("pk").order_by()[: self.count_limit + 1].count()
        return len(self.object_list)

    @property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return min(self._counted, self.count_limit)
        return self._counted

    @property
    def count_is_capped(self) -> bool:
        """Whether the list holds more rows than the count says."""
        return isinstance(self.object_list, QuerySet) and self._counted > self.count_limit

    def page(self, number: Any) -> Page:  # type: ignore[type-arg]
        """Page ``number``; the last one a capped count reaches is a whole page (the list
        goes on past the count), where Django's would stop at the count.

        The first page of a queryset is read before the count, one row more than it
        holds: a list that fits on it (most lists: a cart's products, a user's orders,
        a narrow search) is counted by its rows, with no ``COUNT`` query at all.
        """
        first = self._first_page(number)
        if first is not None:
            return first
        if not self.count_is_capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)

    def _first_page(self, number: Any) -> Page | None:  # type: ignore[type-arg]
        """Page 1 of a queryset, its rows read, the count learnt from them if they are all;
        None for another page, or a list in memory (Django's way is as cheap there)."""
        if isinstance(number, float) and not number.is_integer():
            return None  # Django's PageNotAnInteger
        try:
            is_first = int(number) == 1
        except (TypeError, ValueError):
            return None
        if not is_first or not isinstance(self.object_list, QuerySet) or self.orphans:
            return None
        rows = list(self.object_list[: self.per_page + 1])
        if not rows and not self.allow_empty_first_page:
            return None  # Django's answer: EmptyPage
        if len(rows) <= self.per_page:
            self.__dict__["_counted"] = len(rows)  # the cached_property, known
        return Page(rows[: self.per_page], 1, self)


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=``; asks above 100 are capped, not refused.

    ``next`` and ``previous`` are relative links (path and query): behind the
    gateway, an absolute link would name the service's internal address. So are
    the page links of the browsable API.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CappedCountPaginator
    cursor_query_param = "cursor"
    invalid_cursor_message = "Invalid cursor: follow the next links a list gives."

    # Set by paginate_queryset on a page asked for by cursor.
    _cursor_page: _CursorPage | None = None

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        if isinstance(queryset, QuerySet):
            queryset = queryset.order_by(*total_ordering(queryset))
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is None or not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        try:
            keyset = Keyset.of(queryset)  # ImproperlyConfigured: a list without cursors
            position = keyset.decode(cursor, using=queryset.db)
        except (ValueError, ImproperlyConfigured):
            raise serializers.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        size = self.get_page_size(request) or self.page_size
        rows = list(queryset.filter(keyset.after(position))[: size + 1])
        self._cursor_page = _CursorPage(
            count=self.django_paginator_class(queryset, size).count,
            rows=rows[:size],
            more=len(rows) > size,
            keyset=keyset,
        )
        return self._cursor_page.rows

    def get_paginated_response(self, data: Any) -> Response:
        cursor_page = self._cursor_page
        if cursor_page is None:
            return super().get_paginated_response(data)
        return Response(
            {
                "count": cursor_page.count,
                "next": self._cursor_link(cursor_page.rows[-1], cursor_page.keyset)
                if cursor_page.more
                else None,
                "previous": None,
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "A position in the list, from a next link (past the "
                "first 1,000 results, next links carry one).",
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described: dict[str, Any] = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            f"How many there are, counted up to {COUNT_LIMIT:,}: {COUNT_LIMIT:,} means at "
            f"least that many (pages are numbered that far; next links go on with a cursor)."
        )
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
        if self.page is None or self.request is None:
            return None
        if self.page.has_next():
            url = self.request.get_full_path()
            return replace_query_param(url, self.page_query_param, self.page.next_page_number())
        paginator, rows = self.page.paginator, self.page.object_list
        listed = paginator.object_list
        capped = getattr(paginator, "count_is_capped", False)
        if not capped or not rows or not isinstance(listed, QuerySet):
            return None  # the end of the list
        # The last page the count reaches, and the list may go on: a cursor from here.
        return self._cursor_link(rows[len(rows) - 1], Keyset.of(listed))

    def _cursor_link(self, row: Model, keyset: Keyset) -> str | None:
        if self.request is None:
            return None
        url = remove_query_param(self.request.get_full_path(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, keyset.encode(row))

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


class _CursorPage:
    def __init__(self, *, count: int, rows: list[Any], more: bool, keyset: Keyset) -> None:
        self.count, self.rows, self.more, self.keyset = count, rows, more, keyset


def total_ordering(queryset: QuerySet[Any]) -> list[Any]:
    """The queryset's order, ending with its primary key (in the direction of the last
    field) so that every row has one place: pages never repeat or skip a row of a tie."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    if not all(isinstance(field, str) for field in ordering):
        return ordering  # expressions: ordered as asked, and no cursor
    names = [field.lstrip("-") for field in ordering]
    pk = queryset.model._meta.pk
    if pk is None or any(name in ("pk", pk.name, pk.attname) for name in names):
        return ordering
    descending = bool(ordering) and ordering[-1].startswith("-")
    return [*ordering, f"-{pk.name}" if descending else pk.name]


# A cursor holds the values of one row, base64 of JSON: a name of 200 emoji escaped is
# 2,400 characters, 3,200 in base64. More than this is made up.
MAX_CURSOR_LENGTH = 8192


def _storable(value: object) -> bool:
    """A string a text column can hold: no NUL, and encodable (no lone surrogate)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class Keyset:
    """A list's order as a tuple of fields; a cursor is a row's values of them.

    The page after a position is ``WHERE (a, b, id) > (x, y, z)`` written out
    (``a > x OR (a = x AND (b > y OR ...))``, each field in its own direction), with
    ``a >= x`` besides: the bound an index on the order starts its scan from.
    """

    def __init__(self, model: type[Model], ordering: Sequence[str]) -> None:
        self.ordering = list(ordering)
        self.fields: list[tuple[str, bool, Field[Any, Any]]] = []
        for entry in ordering:
            name = entry.lstrip("-")
            try:
                field = model._meta.pk if name == "pk" else model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if not isinstance(field, Field) or field.is_relation:
                raise ImproperlyConfigured(f"A cursor cannot hold {name!r} of {model.__name__}.")
            self.fields.append((field.name, entry.startswith("-"), field))

    @classmethod
    def of(cls, queryset: QuerySet[Any]) -> Keyset:
        return cls(queryset.model, [str(field) for field in total_ordering(queryset)])

    def encode(self, row: Model) -> str:
        values = [field.value_to_string(row) for _, _, field in self.fields]
        raw = json.dumps([self.ordering, values], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str, *, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        """The position a cursor holds; ValueError for one this list did not give.

        Whatever a client makes up is refused here, before any query: text no column
        can hold (a NUL, a lone surrogate), an id beyond the column's range, a price of
        too many digits, a moment the database cannot store, JSON nested to exhaust
        the parser.
        """
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("not a cursor")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            ordering, values = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, RecursionError):
            raise ValueError("not a cursor") from None
        if ordering != self.ordering or not isinstance(values, list):
            raise ValueError("a cursor of another order")
        if len(values) != len(self.fields) or not all(_storable(v) for v in values):
            raise ValueError("not a position in this order")
        connection = connections[using]
        try:
            position = [
                field.clean(value, None)
                for (_, _, field), value in zip(self.fields, values, strict=True)
            ]
            for (_, _, field), value in zip(self.fields, position, strict=True):
                field.get_db_prep_value(value, connection)  # a moment SQLite cannot hold
        except (ValidationError, ValueError, OverflowError, TypeError):
            raise ValueError("not a position in this order") from None
        return position

    def after(self, position: list[Any]) -> Q:
        """Rows after ``position`` in this order."""
        alternatives = []
        for index, (name, descending, _) in enumerate(self.fields):
            equal = {
                field: value
                for (field, _, _), value in zip(self.fields[:index], position[:index], strict=True)
            }
            beyond = {f"{name}__{'lt' if descending else 'gt'}": position[index]}
            alternatives.append(Q(**equal, **beyond))
        first, descending, _ = self.fields[0]
        start = Q(**{f"{first}__{'lte' if descending else 'gte'}": position[0]})
        return start & functools.reduce(operator.or_, alternatives)
