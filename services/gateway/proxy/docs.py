"""One OpenAPI document for the whole public API, assembled from the services' schemas.

Each service's ``/api/schema/`` is fetched (with a short timeout) and cached;
only the paths the gateway routes are kept, each operation is tagged with its
service, and component names get the service's prefix (``products.Product``)
so two services may both have a ``Product``. A service that does not answer
is left out and named in the description, and asked again on the next fetch.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import urllib3
from django.conf import settings

from proxy.routes import load_table

_pool = urllib3.PoolManager(num_pools=4, maxsize=2, retries=False)
_lock = threading.Lock()
_cache: dict[str, Any] = {"at": 0.0, "schema": None}


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


def _fetch(url: str) -> dict[str, Any] | None:
    try:
        response = _pool.request(
            "GET",
            f"{url.rstrip('/')}/api/schema/",
            headers={"Accept": "application/vnd.oai.openapi+json"},
            timeout=2.0,
        )
    except urllib3.exceptions.HTTPError:
        return None
    if response.status != 200:
        return None
    document: dict[str, Any] = response.json()
    return document


def build_schema() -> dict[str, Any]:
    """The merged document, fetched now."""
    table = load_table()
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Souk API", "version": "1.0.0", "description": ""},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    missing = []
    for name, url in settings.GATEWAY_UPSTREAMS.items():
        prefixes = tuple(route.prefix for route in table.routes if route.upstream == name)
        document = _fetch(url) if prefixes else None
        if document is None:
            if prefixes:
                missing.append(name)
            continue
        merged["tags"].append(
            {"name": name, "description": document["info"].get("description", "")}
        )
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
        description += f" Not shown (did not answer): {', '.join(missing)}."
    merged["info"]["description"] = description
    return merged


def merged_schema() -> dict[str, Any]:
    """The merged document, cached for ``GATEWAY_SCHEMA_CACHE_SECONDS`` while complete."""
    with _lock:
        fresh = time.monotonic() - _cache["at"] < settings.GATEWAY_SCHEMA_CACHE_SECONDS
        if _cache["schema"] is None or not fresh:
            built = build_schema()
            complete = "did not answer" not in built["info"]["description"]
            _cache.update(schema=built, at=time.monotonic() if complete else 0.0)
        cached: dict[str, Any] = _cache["schema"]
        return cached
