"""The gateway admin: the routes in force, and the overrides edited here.

The route list begins with the table every worker applies (within
``GATEWAY_ROUTES_REFRESH_SECONDS``): the built-in defaults of ``GATEWAY_ROUTES`` in
settings merged with the rows below, by the same ``load_table`` the proxy uses, each
route saying where it comes from. The rows are the overrides: a row replaces the default
of its prefix, or adds a route; a disabled row removes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from proxy.models import Route
from proxy.routes import Route as ActiveRoute
from proxy.routes import load_table

DEFAULT = "built-in default (GATEWAY_ROUTES in settings)"
ADDED = "admin (a row below)"
OVERRIDDEN = "admin (a row below, over the built-in default)"


@dataclass(frozen=True)
class RouteInForce:
    """A route the proxy applies, and where it comes from."""

    route: ActiveRoute
    upstream_url: str
    source: str
    from_admin: bool

    @property
    def methods(self) -> str:
        return ", ".join(sorted(self.route.methods))


def routes_in_force() -> tuple[list[RouteInForce], list[str]]:
    """The routes the proxy applies (longest prefix first, as they are matched), each with
    its source; and the built-in defaults a disabled row switches off."""
    defaults = {route["prefix"] for route in settings.GATEWAY_ROUTES}
    rows = {row.prefix: row for row in Route.objects.all()}
    in_force = []
    for route in load_table().routes:
        row = rows.get(route.prefix)
        source = DEFAULT if row is None else OVERRIDDEN if route.prefix in defaults else ADDED
        in_force.append(
            RouteInForce(
                route=route,
                upstream_url=settings.GATEWAY_UPSTREAMS[route.upstream],
                source=source,
                from_admin=row is not None,
            )
        )
    switched_off = sorted(p for p, row in rows.items() if not row.enabled and p in defaults)
    return in_force, switched_off


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    change_list_template = "admin/proxy/route/change_list.html"
    list_display = [
        "prefix",
        "upstream",
        "methods",
        "auth_required",
        "timeout_seconds",
        "max_body_bytes",
        "rate_limit_class",
        "enabled",
        "updated_at",
    ]
    list_filter = ["upstream", "enabled", "auth_required"]
    search_fields = ["prefix"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        in_force, switched_off = routes_in_force()
        context = {
            "routes_in_force": in_force,
            "defaults_switched_off": switched_off,
            "refresh_seconds": settings.GATEWAY_ROUTES_REFRESH_SECONDS,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
