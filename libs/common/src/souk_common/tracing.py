"""Traces (contract section 2): OpenTelemetry spans, exported over OTLP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set,
and nothing at all otherwise.

With tracing on, each process of a service (its server, relay, consumer) has a tracer
provider whose spans leave in batches, from a thread of their own: a slow or absent
collector never holds a request up (:mod:`souk_common.tracing_setup`). Django, psycopg
and redis are traced by their OpenTelemetry instrumentations; the rest by hand through
:func:`span`: a call between services (:mod:`souk_common.clients`), an event sent by a
relay and handled by a consumer (:mod:`souk_common.events`), the gateway's hot path.
Every span of a request, and of each event it led to, is in the trace of the
``traceparent`` the request came with (or the one the gateway started for it).

Off (the default) not even OpenTelemetry's API is imported: each hook costs one test
of a module global, and the ``traceparent`` a request came with travels on as it is,
so every log line still carries the trace id (:mod:`souk_common.logging`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal

from souk_common.logging import traceparent_var

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.util.types import Attributes

Kind = Literal["server", "client", "producer", "consumer", "internal"]
_NEED_A_PARENT = frozenset({"client", "internal"})

#: What a hook gets while tracing is off: a context manager doing nothing, giving None.
_NO_SPAN: AbstractContextManager[None] = contextlib.nullcontext()

_tracer: Tracer | None = None
# OpenTelemetry's API, bound by trace_with() (never imported while tracing is off).
_kinds: dict[str, Any] = {}
_extract: Any = None
_current_span: Any = None
_error_status: Any = None


def enabled() -> bool:
    """Whether this process records spans."""
    return _tracer is not None


def endpoint_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment names an OTLP endpoint for traces."""
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def tracing_configure(service: str) -> bool:
    """Trace this process as ``service`` if an OTLP endpoint is configured; whether it does.

    Called once per process as Django starts (the ``souk_common`` app's ``ready``, or a
    project's own), before the first request: the Django instrumentation adds its
    middleware to ``settings.MIDDLEWARE`` then. Another call changes nothing.
    """
    if _tracer is None and endpoint_configured():
        from souk_common.tracing_setup import tracer_provider

        trace_with(tracer_provider(service))
    return _tracer is not None


def trace_with(provider: TracerProvider | None) -> None:
    """Record this library's spans with ``provider`` (None: record none).

    :func:`tracing_configure` calls it; tests call it with a provider of their own.
    """
    global _tracer, _extract, _current_span, _error_status
    if provider is None:
        _tracer = None
        return
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _kinds.update({kind.name.lower(): kind for kind in SpanKind})
    propagator = TraceContextTextMapPropagator()
    _extract = lambda traceparent: propagator.extract({"traceparent": traceparent})  # noqa: E731
    _current_span = trace.get_current_span
    _error_status = lambda description: Status(StatusCode.ERROR, description)  # noqa: E731
    _tracer = provider.get_tracer("souk_common")


def span(
    name: str,
    *,
    kind: Kind = "internal",
    parent: str | None = None,
    attributes: Attributes = None,
) -> AbstractContextManager[Span | None]:
    """A span named ``name``, current inside the ``with`` block; None while tracing is off.

    Its parent is the current span or, when ``parent`` is given, the span of that W3C
    ``traceparent`` (an event's sender; "" starts a new trace). A client or internal span
    with neither is no span: only requests and events start traces (a relay's or a
    scheduled command's call outside any is not traced). An exception leaving the block
    is recorded on the span and marks it failed.
    """
    if _tracer is None:
        return _NO_SPAN
    orphan = parent is None and kind in _NEED_A_PARENT
    if orphan and not _current_span().get_span_context().is_valid:
        return _NO_SPAN
    context = _extract(parent) if parent is not None else None
    return _tracer.start_as_current_span(
        name, context=context, kind=_kinds[kind], attributes=attributes
    )


def failed(current: Span | None, description: str) -> None:
    """Mark ``current`` (a span from :func:`span`, or None) failed, with no exception."""
    if current is not None:
        current.set_status(_error_status(description))


def span_traceparent() -> str:
    """The W3C ``traceparent`` of the current span, or "" (tracing off, or no span)."""
    if _tracer is None:
        return ""
    context = _current_span().get_span_context()
    if not context.is_valid:
        return ""
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def current_traceparent() -> str:
    """The ``traceparent`` a call or an event made now carries: the current span's while
    tracing, else the one the request or event being handled came with ("" if none)."""
    return span_traceparent() or traceparent_var.get()
