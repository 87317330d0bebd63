"""The OpenTelemetry SDK side of :mod:`souk_common.tracing`, imported only by a process
that traces: its tracer provider, exporter, sampler and instrumentations."""

from __future__ import annotations

import os
from collections.abc import Sequence
from multiprocessing.util import Finalize
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

#: URLs never traced: probes, scrapes and static files (patterns searched for in the URL).
UNTRACED_URLS = "/health/,/metrics,/static/"


def tracer_provider(service: str) -> TracerProvider:
    """The process's provider, exporting over OTLP/HTTP in batches, made the global one,
    with Django, psycopg and redis instrumented.

    The SDK reads the ``OTEL_*`` variables it knows: the endpoint and its headers, the
    batches' delay and size (``OTEL_BSP_*``); ``OTEL_SERVICE_NAME`` names the service
    instead of ``service``; ``OTEL_TRACES_SAMPLER_ARG`` is the share of new traces kept.
    """
    # The stable semantic conventions' attribute names (http.response.status_code...),
    # as this library's own spans use, rather than the instrumentations' old ones.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    ratio = _ratio(os.environ.get("OTEL_TRACES_SAMPLER_ARG"))
    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service}),
        sampler=ParentBased(root=EntryPoints(ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # The last spans leave as the process ends: at exit (the SDK's own hook), and as a
    # forked worker process ends (granian's end through os._exit, which skips atexit
    # but runs multiprocessing's finalizers).
    Finalize(provider, provider.shutdown, exitpriority=10)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider, excluded_urls=UNTRACED_URLS)
    PsycopgInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    return provider


def _ratio(value: str | None) -> float:
    try:
        return min(max(float(value), 0.0), 1.0) if value else 1.0
    except ValueError:
        return 1.0


class EntryPoints(Sampler):
    """Starts a trace only where work enters Souk: a request (a server span) or an event
    (a producer or consumer span), ``ratio`` of them. Anything else with no parent (the
    queries of a relay polling its outbox, of a consumer looking for due retries) is
    dropped: each would be a trace of one span, all day long.

    The root sampler of ``ParentBased``: a span with a parent follows its parent (the
    sampled flag of the ``traceparent`` a request came with).
    """

    def __init__(self, ratio: float = 1.0) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind in (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER):
            return self._ratio.should_sample(parent_context, trace_id, name, kind, attributes)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return f"EntryPoints{{{self._ratio.get_description()}}}"
