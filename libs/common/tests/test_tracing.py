"""souk_common.tracing: spans for requests, calls between services and events, linked
into one trace across processes and the broker; exported over OTLP only when an endpoint
is configured, and nothing of OpenTelemetry loaded otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased
from opentelemetry.trace import SpanKind, StatusCode

from souk_common import tracing
from souk_common.clients import ServiceClient
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent, OutboxEvent
from souk_common.events.publish import event_publish
from souk_common.logging import traceparent_var
from souk_common.middleware import RequestIdMiddleware
from souk_common.test_servers import OtlpReceiver
from souk_common.tracing_setup import EntryPoints
from tests.test_events import Shop

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def spans():
    """Tracing on in this process, every ended span kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=EntryPoints()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.trace_with(provider)
    yield exporter
    tracing.trace_with(None)
    provider.shutdown()


def hex_id(span_id: int) -> str:
    return f"{span_id:016x}"


def named(exporter: InMemorySpanExporter, name: str):
    (span,) = [span for span in exporter.get_finished_spans() if span.name == name]
    return span


# Off ------------------------------------------------------------------------------------


def test_off_a_span_is_nothing_and_the_incoming_trace_travels_on():
    assert not tracing.enabled()
    token = traceparent_var.set(INCOMING)
    try:
        with tracing.span("anything", kind="server") as span:
            assert span is None
            assert tracing.current_traceparent() == INCOMING
            assert tracing.span_traceparent() == ""
    finally:
        traceparent_var.reset(token)


def test_without_an_endpoint_nothing_is_configured(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)

    assert tracing.tracing_configure("shop") is False
    assert not tracing.enabled()


# Calls between services -----------------------------------------------------------------


def test_a_call_is_a_client_span_and_the_upstream_gets_it_as_parent(spans, fake_service):
    products = fake_service()
    products.add("GET", "/api/products/", json={})
    client = ServiceClient("products", products.url, backoff=0)

    with tracing.span("GET /api/orders/", kind="server", parent=INCOMING):
        client.get("/api/products/")

    server, call = named(spans, "GET /api/orders/"), named(spans, "GET products")
    assert call.kind is SpanKind.CLIENT
    assert call.parent.span_id == server.context.span_id
    assert server.parent.span_id == int("00f067aa0ba902b7", 16)
    assert f"{call.context.trace_id:032x}" == TRACE_ID
    assert call.attributes["http.response.status_code"] == 200
    assert call.attributes["peer.service"] == "products"
    sent = products.calls[0].headers["traceparent"]
    assert sent == f"00-{TRACE_ID}-{hex_id(call.context.span_id)}-01"


def test_a_call_answered_with_a_5xx_is_a_failed_span(spans, fake_service):
    products = fake_service()
    products.add("POST", "/internal/stock/reserve/", status=500, json={})
    client = ServiceClient("products", products.url, backoff=0, retries=0)

    with tracing.span("POST /api/orders/", kind="server"), pytest.raises(Exception):  # noqa: B017, PT011
        client.post("/internal/stock/reserve/", json={})

    call = named(spans, "POST products")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["http.response.status_code"] == 500


# Requests ------------------------------------------------------------------------------


def test_a_requests_logs_and_events_carry_its_span_while_tracing(spans):
    seen = {}

    def view(request):
        seen["traceparent"] = traceparent_var.get()
        return HttpResponse()

    with tracing.span("GET /", kind="server", parent=INCOMING):
        expected = tracing.span_traceparent()
        RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_TRACEPARENT=INCOMING))

    assert seen["traceparent"] == expected
    assert expected.startswith(f"00-{TRACE_ID}-")
    assert expected != INCOMING


# Events --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_is_sent_under_its_request_and_handled_under_its_sending(
    spans, broker_url, settings
):
    shop = Shop(broker_url, settings)
    handled = {}

    def record(event: Event) -> None:
        handled["traceparent"] = traceparent_var.get()
        handled["current"] = tracing.current_traceparent()

    shop.handlers.on("thing.traced", source=shop.source)(record)
    try:
        with tracing.span("POST /things/", kind="server", parent=INCOMING), transaction.atomic():
            request_span = tracing.span_traceparent()
            event = event_publish(type="thing.traced", data={})
        shop.relay_and_consume()
    finally:
        shop.remove()

    server = named(spans, "POST /things/")
    send, process = named(spans, "send thing.traced"), named(spans, "process thing.traced")
    assert (send.kind, process.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert send.parent.span_id == server.context.span_id
    assert process.parent.span_id == send.context.span_id
    assert {f"{span.context.trace_id:032x}" for span in (server, send, process)} == {TRACE_ID}
    assert process.attributes["messaging.message.id"] == str(event.id)
    # The handler's calls, logs and events are the consumer span's.
    process_traceparent = f"00-{TRACE_ID}-{hex_id(process.context.span_id)}-01"
    assert handled == {"traceparent": process_traceparent, "current": process_traceparent}
    # The outbox keeps the request's span; what was sent (and the inbox keeps) names the send.
    assert OutboxEvent.objects.get(event_id=event.id).envelope["traceparent"] == request_span
    sent = InboxEvent.objects.get(event_id=event.id).envelope["traceparent"]
    assert sent == f"00-{TRACE_ID}-{hex_id(send.context.span_id)}-01"


@pytest.mark.django_db
def test_a_failing_handler_is_a_failed_span_with_its_exception(spans, broker_url, settings):
    shop = Shop(broker_url, settings)

    def fail(event: Event) -> None:
        raise RuntimeError("no paper")

    shop.handlers.on("thing.failed", source=shop.source)(fail)
    try:
        with tracing.span("POST /things/", kind="server"), transaction.atomic():
            event_publish(type="thing.failed", data={})
        shop.relay_and_consume()
    finally:
        shop.remove()

    send = named(spans, "send thing.failed")
    attempts = [s for s in spans.get_finished_spans() if s.name == "process thing.failed"]
    assert len(attempts) == 3  # the first, and each retry (EVENTS_MAX_ATTEMPTS)
    assert all(span.parent.span_id == send.context.span_id for span in attempts)
    assert all(span.status.status_code is StatusCode.ERROR for span in attempts)
    assert "no paper" in attempts[0].events[0].attributes["exception.message"]


@pytest.mark.django_db
def test_an_event_published_outside_any_request_starts_a_trace_of_its_own(
    spans, broker_url, settings
):
    shop = Shop(broker_url, settings)
    shop.handlers.on("thing.scheduled", source=shop.source)(lambda event: None)
    try:
        with transaction.atomic():  # a scheduled command's change: no span around it
            event_publish(type="thing.scheduled", data={})
        shop.relay_and_consume()
    finally:
        shop.remove()

    create = named(spans, "create thing.scheduled")
    send, process = named(spans, "send thing.scheduled"), named(spans, "process thing.scheduled")
    assert (create.kind, create.parent) == (SpanKind.PRODUCER, None)
    assert send.parent.span_id == create.context.span_id
    assert process.parent.span_id == send.context.span_id


def test_a_call_outside_any_request_or_event_is_no_span_and_starts_no_trace(spans, fake_service):
    products = fake_service()
    products.add("POST", "/internal/stock/release/", json={})
    client = ServiceClient("products", products.url, backoff=0)

    client.post("/internal/stock/release/", json={})  # a scheduled command's call

    assert spans.get_finished_spans() == ()
    assert "traceparent" not in products.calls[0].headers


# What starts a trace ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "decision"),
    [
        (SpanKind.SERVER, Decision.RECORD_AND_SAMPLE),
        (SpanKind.CONSUMER, Decision.RECORD_AND_SAMPLE),
        (SpanKind.PRODUCER, Decision.RECORD_AND_SAMPLE),
        (SpanKind.CLIENT, Decision.DROP),  # a relay's poll: a query outside any request
        (SpanKind.INTERNAL, Decision.DROP),
    ],
)
def test_only_requests_and_events_start_a_trace(kind, decision):
    assert EntryPoints().should_sample(None, 1, "x", kind).decision is decision


def test_a_request_whose_trace_is_not_sampled_is_not_recorded_here_either(spans):
    with tracing.span("GET /", kind="server", parent=f"00-{TRACE_ID}-00f067aa0ba902b7-00"):
        assert tracing.span_traceparent().endswith("-00")  # passed on, unsampled

    assert spans.get_finished_spans() == ()


# Export ---------------------------------------------------------------------------------

SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
Client().get("/raise/conflict/", HTTP_TRACEPARENT=sys.argv[1])
print(json.dumps(sorted(name for name in sys.modules if name.startswith("opentelemetry"))))
"""


def run_service(**environ: str) -> list[str]:
    """A process of the test project answering one request; the OpenTelemetry modules it
    loaded. It exits as services do, handing its last spans over as it goes."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env |= {"DJANGO_SETTINGS_MODULE": "tests.settings", **environ}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, INCOMING],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_with_an_endpoint_a_requests_span_reaches_the_collector():
    with OtlpReceiver() as receiver:
        run_service(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)
        (span,) = receiver.wait_for(TRACE_ID, 1)

    assert (span.service, span.kind) == ("common-tests", "SPAN_KIND_SERVER")
    assert span.parent_id == "00f067aa0ba902b7"
    assert span.attributes["http.response.status_code"] == 409


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded():
    assert run_service() == []


def test_the_receiver_refuses_what_is_no_otlp_and_says_why():
    with OtlpReceiver() as receiver:
        answer = requests.post(f"{receiver.url}/v1/traces", data=b"\xff not protobuf", timeout=5)

        assert answer.status_code == 400
        assert receiver.errors
        with pytest.raises(AssertionError, match="exports refused"):
            receiver.wait_for(TRACE_ID, 1, timeout=0.1)
