"""Request-id middleware: one id per request, accepted, echoed and logged (and counted).

A client (or the gateway) may send ``X-Request-ID``; it is kept when it is a
safe token, otherwise replaced by a fresh one. The id is echoed on the
response, set in :data:`souk_common.logging.request_id_var` for every log line
of the request, and forwarded by :mod:`souk_common.clients` to other services.
One access line is logged per request, and the request is counted with its route,
status and latency (:mod:`souk_common.metrics`).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from time import perf_counter

from django.http import HttpRequest, HttpResponseBase

from souk_common.logging import request_id_var, traceparent_var
from souk_common.metrics import observe_request
from souk_common.tracing import span_traceparent

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# W3C Trace Context, version 00: trace id and parent id, neither all zeros.
_TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")

access_logger = logging.getLogger("souk.access")


def valid_traceparent(candidate: str | None) -> str:
    """``candidate`` if it is a W3C ``traceparent`` of version 00, else ""."""
    return candidate if candidate and _TRACEPARENT.fullmatch(candidate) else ""


def safe_request_id(candidate: str | None) -> str:
    """Return ``candidate`` if it is a safe request id, else a new random one.

    Safe means 1-128 characters of letters, digits and ``._:-``, starting with a
    letter or digit: nothing that could split a log line or a header.
    """
    if candidate and _SAFE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return new_request_id()


def new_request_id() -> str:
    """32 random hex digits. An id names a request; it guards nothing, so it comes from
    ``random`` (reseeded in every forked process), without uuid4's system call per id."""
    return f"{random.getrandbits(128):032x}"


class RequestIdMiddleware:
    """Assign the request id, echo it, and log one access line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = safe_request_id(request.headers.get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        # The request's span while tracing (the Django instrumentation's, started from
        # the same header, or a new trace's), else the trace the request came with.
        trace_token = traceparent_var.set(
            span_traceparent() or valid_traceparent(request.headers.get("traceparent"))
        )
        started = perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            status = response.status_code
            level = logging.INFO
            if status >= 400:
                level = logging.ERROR if status >= 500 else logging.WARNING
            access_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((perf_counter() - started) * 1000, 2),
                },
            )
            observe_request(request, status, perf_counter() - started)
            # Django would log 4xx/5xx again after this middleware, without the request id.
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        finally:
            request_id_var.reset(token)
            traceparent_var.reset(trace_token)
