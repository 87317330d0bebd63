"""What the gateway's own pages say about the upstreams, kept fresh in the background.

``GET /health`` and ``GET /api/schema/`` fan out to every upstream. Answering
them by calling the upstreams on each request would let anyone who polls them
load every service, and a hung upstream would hold every poller. Instead each
worker checks every upstream's readiness every few seconds, and fetches its
OpenAPI schema every minute, in the background; the pages answer at once from
the last results. A schema that could not be fetched keeps its last good
version (and is named in the document's description until one arrives). Only
upstreams found ready are asked: one not fetched yet, of a service still starting
when the gateway did, is fetched as a health check finds the service ready, not a
minute later, and a service that is down is not asked for its schema (nor warned of).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from time import monotonic, perf_counter
from typing import Any

from proxy.routes import RouteTable
from souk_common.httpclient import AsyncPool, UpstreamFailure

logger = logging.getLogger(__name__)


class UpstreamWatch:
    """Readiness and schema of every upstream, refreshed by background tasks of one loop."""

    def __init__(
        self,
        upstreams: Mapping[str, str],
        route_table: Callable[[], RouteTable],
        *,
        health_interval: float,
        health_timeout: float,
        schema_interval: float,
        schema_timeout: float = 2.0,
    ) -> None:
        self.pools = {name: AsyncPool.from_url(url, 2) for name, url in upstreams.items()}
        self.route_table = route_table
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self.schema_interval = schema_interval
        self.schema_timeout = schema_timeout
        self.health: dict[str, dict[str, Any]] = {
            name: {"status": "unavailable", "error": "not checked yet"} for name in upstreams
        }
        self._checked_at: dict[str, float] = {}
        self._schemas: dict[str, dict[str, Any]] = {}
        self._merged = b""
        self._tasks: list[asyncio.Task[None]] = []

    # Lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Check everything once (within the timeouts), then keep checking in the background."""
        await self._check_all()  # and fetches the schema of every upstream that is ready
        if not self._merged:  # none was: the document names them all as not fetched yet
            self._merge()
        self._tasks = [
            asyncio.create_task(self._every(self.health_interval, self._check_all)),
            asyncio.create_task(self._every(self.schema_interval, self._fetch_all)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pool in self.pools.values():
            pool.close()

    async def _every(self, seconds: float, refresh: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await refresh()
            except Exception:
                logger.exception("refreshing the upstreams' state failed")

    # Health ------------------------------------------------------------------------

    def health_report(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Whether every upstream is ready, and each one's last result.

        A result older than three check intervals counts as unavailable: the
        checks themselves are stuck, and nothing is known.
        """
        oldest = monotonic() - 3 * (self.health_interval + self.health_timeout)
        services = {
            name: result
            if self._checked_at.get(name, 0) >= oldest
            else {"status": "unavailable", "error": "no recent check"}
            for name, result in self.health.items()
        }
        return all(s["status"] == "ok" for s in services.values()), services

    async def _check_all(self) -> None:
        was_ready = {name for name in self.pools if self._ready(name)}
        await asyncio.gather(*(self._check(name) for name in self.pools))
        # A schema not fetched yet is asked for as its service becomes ready; one that
        # fails then waits for the refresh, like any other.
        waiting = [
            name
            for name in self.pools
            if name not in self._schemas and name not in was_ready and self._ready(name)
        ]
        if waiting:
            await self._fetch_some(waiting)

    def _ready(self, name: str) -> bool:
        return bool(self.health[name]["status"] == "ok")

    async def _check(self, name: str) -> None:
        started = perf_counter()
        try:
            async with asyncio.timeout(self.health_timeout):
                answer = await self.pools[name].request(
                    "GET",
                    "/health/ready",
                    {"accept": "application/json"},
                    None,
                    connect_timeout=self.health_timeout,
                    read_timeout=self.health_timeout,
                )
                await answer.read()
        except (UpstreamFailure, TimeoutError) as exc:
            result: dict[str, Any] = {"status": "unavailable", "error": type(exc).__name__}
        else:
            latency_ms = round((perf_counter() - started) * 1000, 1)
            result = {"status": "ok", "latency_ms": latency_ms}
            if answer.status != 200:
                result = {"status": "unavailable", "http_status": answer.status}
        self.health[name] = result
        self._checked_at[name] = monotonic()

    # Schema ------------------------------------------------------------------------

    def schema_document(self) -> bytes:
        """The merged OpenAPI document of every routed path, as JSON."""
        return self._merged

    async def _fetch_all(self) -> None:
        """Every schema again, of the upstreams the last check found ready (the others
        keep theirs: a service that is down has nothing to say)."""
        await self._fetch_some([name for name in self.pools if self._ready(name)])

    async def _fetch_some(self, names: list[str]) -> None:
        fetched = await asyncio.gather(*(self._fetch(name) for name in names))
        for name, document in zip(names, fetched, strict=True):
            if document is not None:
                self._schemas[name] = document
        self._merge()

    def _merge(self) -> None:
        merged = merge_schemas(self._schemas, self.pools, self.route_table())
        self._merged = json.dumps(merged).encode()

    async def _fetch(self, name: str) -> dict[str, Any] | None:
        try:
            async with asyncio.timeout(self.schema_timeout):
                answer = await self.pools[name].request(
                    "GET",
                    "/api/schema/",
                    {"accept": "application/vnd.oai.openapi+json"},
                    None,
                    connect_timeout=self.schema_timeout,
                    read_timeout=self.schema_timeout,
                )
                body = await answer.read()
            document = json.loads(body) if answer.status == 200 else None
        except (UpstreamFailure, TimeoutError, ValueError) as exc:
            logger.warning("the %s schema could not be fetched: %s", name, exc)
            return None
        return document if isinstance(document, dict) else None


def _rename_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/components/schemas/", f"#/components/schemas/{prefix}.")
                if key == "$ref" and isinstance(value, str)
                else _rename_refs(value, prefix)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, prefix) for item in node]
    return node


def merge_schemas(
    documents: Mapping[str, dict[str, Any]], upstreams: Mapping[str, object], table: RouteTable
) -> dict[str, Any]:
    """One document for the whole public API: only the paths the gateway routes, each
    operation tagged with its service, component names prefixed by it (``products.Product``)."""
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Souk API", "version": "1.0.0", "description": ""},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    missing = []
    for name in upstreams:
        prefixes = tuple(route.prefix for route in table.routes if route.upstream == name)
        if not prefixes:
            continue
        document = documents.get(name)
        if document is None:
            missing.append(name)
            continue
        info = document.get("info")
        about = info.get("description", "") if isinstance(info, dict) else ""
        merged["tags"].append({"name": name, "description": about})
        for path, operations in document.get("paths", {}).items():
            if not path.startswith(prefixes):
                continue
            operations = _rename_refs(operations, name)
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation["tags"] = [name]
            merged["paths"][path] = operations
        components = document.get("components", {})
        for schema_name, schema in components.get("schemas", {}).items():
            merged["components"]["schemas"][f"{name}.{schema_name}"] = _rename_refs(schema, name)
        merged["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
    description = "Every public endpoint of Souk, as routed by the gateway."
    if missing:
        description += f" Not shown (not fetched yet): {', '.join(missing)}."
    merged["info"]["description"] = description
    return merged
