"""What the gateway's public listener counts, per route and per upstream.

Written by every worker of the public listener to ``PROMETHEUS_MULTIPROC_DIR``, and
served by the admin listener's ``/metrics`` (souk_common.metrics), never on the public
port. Gauges say what live workers hold: a breaker open in any worker is open
(``livemax``), calls in flight add up (``livesum``); a worker starting drops the gauges
of workers that died (``forget_dead_processes``). A worker's breaker gauge is set as it
calls that upstream: an idle worker's says what its breaker was at its last call.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from souk_common.breaker import BreakerState
from souk_common.metrics import LATENCY_BUCKETS, labelled

REQUESTS = Counter(
    "souk_gateway_requests_total",
    "Requests the public listener answered, by route (its prefix, or the page) and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "souk_gateway_request_duration_seconds",
    "Time to answer a request on the public listener, by route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_LATENCY = Histogram(
    "souk_gateway_upstream_duration_seconds",
    "Time an upstream took to answer (its whole answer relayed), by upstream.",
    ["upstream"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "souk_gateway_upstream_errors_total",
    "Calls to an upstream that failed, by upstream and kind "
    "(timeout, failed, breaker_open, bulkhead_full).",
    ["upstream", "kind"],
)
BREAKER_OPEN = Gauge(
    "souk_gateway_breaker_open",
    "1 while an upstream's circuit breaker is open or half-open in a worker, else 0.",
    ["upstream"],
    multiprocess_mode="livemax",
)
BULKHEAD_IN_USE = Gauge(
    "souk_gateway_bulkhead_in_use",
    "Calls in flight to an upstream (its bulkhead's slots taken), over live workers.",
    ["upstream"],
    multiprocess_mode="livesum",
)


# What this worker last wrote to each upstream's breaker gauge.
_breakers_shown: dict[str, int] = {}


def breaker_state(upstream: str, state: BreakerState) -> None:
    """Show the breaker's state, written to the worker's gauge only when it changed."""
    shown = 0 if state == BreakerState.CLOSED else 1
    if _breakers_shown.get(upstream) != shown:
        labelled(BREAKER_OPEN, upstream).set(shown)
        _breakers_shown[upstream] = shown
