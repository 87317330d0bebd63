"""One URL, several operations: each request is served by its operation's own view.

Django routes by path alone, so ``GET`` and ``POST /api/products/`` share one URL
pattern. Each operation is still written as its own ``APIView`` (its serializers, its
permissions); the URL's view names them per method and hands each request to the
operation's view, which parses, checks and answers as if it were alone::

    class ProductListCreateApi(OperationsApi, ProductListApi, ProductCreateApi):
        operations = {"GET": ProductListApi, "POST": ProductCreateApi}

The URL's view also inherits the operations, so the OpenAPI schema shows each
method as its operation declares it (permissions included), and its docstring
describes the URL. ``HEAD`` and ``OPTIONS`` go to ``GET``'s operation; a method
the URL does not have must pass every operation's permissions before the 405 that
names the URL's methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from rest_framework.views import APIView

if TYPE_CHECKING:
    from rest_framework.permissions import _SupportsHasPermission


class OperationsApi(APIView):
    """Mix in first; set :attr:`operations` (HTTP method -> the operation's view class)."""

    operations: ClassVar[Mapping[str, type[APIView]]] = {}
    _views: ClassVar[dict[str, Callable[..., HttpResponseBase]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._views = {method: view.as_view() for method, view in cls.operations.items()}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = (request.method or "").upper()
        if method in ("HEAD", "OPTIONS") and method not in self._views:
            method = "GET"
        view = self._views.get(method)
        if view is None:
            return super().dispatch(request, *args, **kwargs)
        return view(request, *args, **kwargs)

    def get_permissions(self) -> Sequence[_SupportsHasPermission]:
        method = (self.request.method or "").upper()
        if method in ("HEAD", "OPTIONS") and method not in self.operations:
            method = "GET"
        operation = self.operations.get(method)
        if operation is not None:
            return operation().get_permissions()
        return [check for each in self.operations.values() for check in each().get_permissions()]
