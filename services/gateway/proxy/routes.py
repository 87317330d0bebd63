"""The route table: defaults from settings, overridden by routes edited in the admin.

Loaded at start-up and then refreshed in the background every few seconds, so
an admin edit applies without a restart and no request ever waits on the
database for it. The table itself is immutable; a refresh swaps it whole.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    prefix: str
    upstream: str
    methods: frozenset[str]
    auth_required: bool
    connect_timeout: float
    read_timeout: float
    max_body_bytes: int
    rate_limit_class: str
    # Writes of one client in flight at once (the others wait), on routes that hash passwords.
    client_concurrency: int | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Route:
        methods = values.get("methods", "GET,HEAD,OPTIONS,POST,PUT,PATCH,DELETE")
        if isinstance(methods, str):
            methods = methods.split(",")
        return cls(
            prefix=str(values["prefix"]),
            upstream=str(values["upstream"]),
            methods=frozenset(str(m).strip().upper() for m in methods if str(m).strip()),
            auth_required=bool(values.get("auth_required", False)),
            connect_timeout=settings.GATEWAY_CONNECT_TIMEOUT,
            read_timeout=float(values.get("timeout_seconds", settings.GATEWAY_READ_TIMEOUT)),
            max_body_bytes=int(values.get("max_body_bytes", settings.GATEWAY_MAX_BODY_BYTES)),
            rate_limit_class=str(values.get("rate_limit_class", "default")),
            client_concurrency=values.get("client_concurrency"),
        )


class RouteTable:
    """Longest-prefix match over a handful of routes."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(sorted(routes, key=lambda route: len(route.prefix), reverse=True))

    def match(self, path: str) -> Route | None:
        for route in self.routes:
            if path.startswith(route.prefix):
                return route
        return None


def load_table() -> RouteTable:
    """Settings' routes with the admin's overrides (a disabled override removes a route)."""
    from proxy.models import Route as RouteRow

    defaults: list[dict[str, Any]] = settings.GATEWAY_ROUTES
    merged: dict[str, Mapping[str, Any]] = {route["prefix"]: route for route in defaults}
    try:
        for row in RouteRow.objects.all():
            if row.enabled:
                # What the admin does not edit (client_concurrency) stays as in settings.
                merged[row.prefix] = {
                    **merged.get(row.prefix, {}),
                    "prefix": row.prefix,
                    "upstream": row.upstream,
                    "methods": row.methods,
                    "auth_required": row.auth_required,
                    "timeout_seconds": row.timeout_seconds,
                    "max_body_bytes": row.max_body_bytes,
                    "rate_limit_class": row.rate_limit_class,
                }
            else:
                merged.pop(row.prefix, None)
    except DatabaseError as exc:  # the table is not there yet (first migrate), or DB down
        logger.warning("route overrides not loaded, using the defaults: %s", exc)
    routes = [Route.from_values(values) for values in merged.values()]
    return RouteTable(r for r in routes if r.upstream in settings.GATEWAY_UPSTREAMS)


class RouteTableHolder:
    """The current table, refreshed by a daemon thread in each worker process."""

    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self._table = RouteTable(())
        self._loaded = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def table(self) -> RouteTable:
        if not self._loaded.is_set():
            self.start()
        return self._table

    def refresh(self) -> None:
        """Reload now (the background thread calls this; so may tests)."""
        try:
            self._table = load_table()
        finally:
            connections.close_all()
        self._loaded.set()

    def start(self) -> None:
        """Load the table now (blocking on the database) and keep refreshing it."""
        with self._lock:
            if self._loaded.is_set():
                return
            self.refresh()
            if self.refresh_seconds > 0:
                self._thread = threading.Thread(
                    target=self._run, name="gateway-routes", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.refresh_seconds):
            try:
                self.refresh()
            except Exception:
                logger.exception("route table refresh failed")
