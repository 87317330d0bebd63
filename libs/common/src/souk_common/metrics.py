"""Prometheus metrics: what every process counts, and ``GET /metrics``.

prometheus-client, in its multiprocess mode whenever ``PROMETHEUS_MULTIPROC_DIR`` names
a folder (set for every process by ``nox -s up``, the image and the manifests): a
service runs several worker processes, each writing its samples to its own file there,
and ``/metrics`` adds up every file, so one scrape sees the whole service. The folder
must start empty with the service (``tools/stack.py``, ``docker/entrypoint.sh`` and an
``emptyDir`` do that). Without it, each process counts in memory alone (tests,
``runserver``).

What is counted where:

- every HTTP request a service answers, by method, route (the URL pattern, never the
  path, so ids do not make new series) and status, with its latency
  (:func:`observe_request`, called by the request-id middleware);
- every call of :class:`souk_common.clients.ServiceClient`, by upstream and outcome;
- what only the database knows, read when Prometheus scrapes: each app registers a
  collector with :func:`register_collector` (the events app: the outbox backlog and the
  age of its oldest event, events handled, failed attempts, dead letters; orders: orders
  by status; products: stock reservations).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from django import db
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

#: Latency buckets, in seconds: a millisecond to a read timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "souk_http_requests_total",
    "HTTP requests answered, by method, route (URL pattern) and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "souk_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
CLIENT_CALLS = Counter(
    "souk_client_calls_total",
    "Calls to other services, by upstream, method and outcome "
    "(the status, or timeout, failed, breaker_open).",
    ["upstream", "method", "outcome"],
)
CLIENT_LATENCY = Histogram(
    "souk_client_call_duration_seconds",
    "Time a call to another service took, by upstream.",
    ["upstream"],
    buckets=LATENCY_BUCKETS,
)

#: A route that matched no URL pattern (a 404): one series, whatever was asked.
UNMATCHED = "<unmatched>"
#: Methods counted by name; any other a client makes up is "other" (one series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_collectors: list[Callable[[], Collector]] = []


# Each series' child, looked up once per process: ``labels()`` checks its values and takes
# a lock on every call, and every request counts in a few series. Label values are bounded
# (routes, methods, statuses, upstreams), and so is this.
_children: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}


def labelled(metric: MetricWrapperBase, *values: str) -> Any:
    """``metric.labels(*values)``: the same child, found in a dict after the first call."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def observe_request(request: HttpRequest, status: int, seconds: float) -> None:
    """Count one answered request."""
    match = getattr(request, "resolver_match", None)
    route = f"/{match.route}" if match is not None and match.route else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    labelled(HTTP_REQUESTS, method, route, str(status)).inc()
    labelled(HTTP_LATENCY, method, route).observe(seconds)


def observe_call(upstream: str, method: str, outcome: str, seconds: float) -> None:
    """Count one call to another service (:class:`souk_common.clients.ServiceClient`)."""
    labelled(CLIENT_CALLS, upstream, method, outcome).inc()
    labelled(CLIENT_LATENCY, upstream).observe(seconds)


def forget_dead_processes() -> None:
    """Drop the gauge files of processes that are gone (a server restarts its workers): a
    ``live*`` gauge then counts live processes only. Called as a server's process starts;
    counters and histograms of the dead are kept, as their counts happened."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder or not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        found = re.fullmatch(r"gauge_live\w*?_(\d+)\.db", name)
        if found and not _alive(int(found[1])):
            mark_process_dead(int(found[1]), folder)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def register_collector(factory: Callable[[], Collector]) -> None:
    """Have ``/metrics`` ask ``factory()`` for more metrics at each scrape (an app's
    ``ready()`` registers what only its database knows). Registering twice is once."""
    if factory not in _collectors:
        _collectors.append(factory)


def registry() -> CollectorRegistry:
    """What one scrape reads: every process's samples, and the apps' collectors."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scraped = CollectorRegistry()
        MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
    else:
        scraped = CollectorRegistry()
        scraped.register(_ProcessMetrics())
    for factory in _collectors:
        scraped.register(factory())
    return scraped


class _ProcessMetrics(Collector):
    """This process's own metrics (no multiprocess folder): the default registry's."""

    def collect(self) -> Iterable[object]:  # type: ignore[override]
        return REGISTRY.collect()


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: Prometheus's text format, to whoever reaches the process itself.

    A request that came through a proxy (it carries ``X-Forwarded-For``: an Ingress in
    front of the storefront, say) is answered 404: Prometheus scrapes pods directly, and
    what a service counts is not the internet's to read.
    """
    if "HTTP_X_FORWARDED_FOR" in request.META:
        raise Http404("Not found.")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


class DatabaseCollector(Collector):
    """A collector that reads what it says from the database at each scrape; a database
    that does not answer makes it say nothing (and ``/metrics`` still answers)."""

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.read())
        except db.Error as exc:  # DatabaseError, and InterfaceError too
            logger.warning("metrics: %s could not read the database: %s", type(self).__name__, exc)
            return []

    def read(self) -> Iterable[Metric]:
        raise NotImplementedError
