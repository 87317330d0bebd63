"""The gateway's ``GET /health``: every upstream's readiness, checked concurrently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

import urllib3
from django.conf import settings

_pool = urllib3.PoolManager(num_pools=8, maxsize=4, retries=False)
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def _check(base_url: str, timeout: float) -> dict[str, Any]:
    started = perf_counter()
    try:
        response = _pool.request(
            "GET", base_url.rstrip("/") + "/health/ready", timeout=timeout, retries=False
        )
    except urllib3.exceptions.HTTPError as exc:
        return {"status": "unavailable", "error": exc.__class__.__name__}
    latency_ms = round((perf_counter() - started) * 1000, 1)
    if response.status != 200:
        return {"status": "unavailable", "http_status": response.status, "latency_ms": latency_ms}
    return {"status": "ok", "latency_ms": latency_ms}


def upstreams_health() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Check every upstream at once; return whether all are ready, and each one's result."""
    timeout = settings.GATEWAY_HEALTH_TIMEOUT
    futures = {
        name: _executor.submit(_check, url, timeout)
        for name, url in settings.GATEWAY_UPSTREAMS.items()
    }
    services = {name: future.result() for name, future in futures.items()}
    return all(s["status"] == "ok" for s in services.values()), services
