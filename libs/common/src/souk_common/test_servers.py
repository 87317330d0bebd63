"""Real servers that tests stand between the code under test and the world.

:class:`SmtpServer` is an SMTP server (aiosmtpd) that keeps every message it
accepted, and can be down (refusing connections) or hold a message's answer to
make a sender wait. :class:`TcpProxy` forwards one port to another (to RabbitMQ,
say) and can cut every connection and refuse new ones, as a network would.

:class:`OtlpReceiver` is an OpenTelemetry collector's front door (OTLP over HTTP,
``POST /v1/traces``) that keeps every span it is sent, readable as :class:`ReceivedSpan`.

All run on threads of the test process, on free loopback ports. Nothing here imports
pytest; aiosmtpd (a test dependency) is imported when a server starts, OpenTelemetry's
protobuf messages when spans arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import gzip
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# SMTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """A message the server accepted (answered 250 to), as sent, and when (``time.time()``)."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    received_at: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


class SmtpServer:
    """An SMTP server on ``127.0.0.1:<port>`` that keeps what it accepts in :attr:`mail`.

    ``stop()`` takes it down (connections are refused) and ``start()`` brings it back
    on the same port. ``hold()`` makes it wait before answering the next message's
    data until ``release()``; a message whose sender left while it waited was never
    accepted, as SMTP has it, and is not kept.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mail: list[ReceivedMail] = []
        self._controller: Any = None
        self._held = threading.Event()
        self._released = threading.Event()
        self._waiting = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """What ``EMAIL_URL`` says to send through this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def hold(self) -> None:
        """Make the next message wait for :meth:`release` before it is answered."""
        self._released.clear()
        self._waiting.clear()
        self._held.set()

    def wait_until_holding(self, timeout: float = 30.0) -> bool:
        """Wait until a sender is waiting on a held message."""
        return self._waiting.wait(timeout)

    def release(self) -> None:
        self._held.clear()
        self._released.set()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedMail]:
        """The mail once at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.mail) >= count:
                    return list(self.mail)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.mail)} messages arrived of {count}, in {timeout}s")

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_if_held(self) -> None:
        if self._held.is_set():
            self._held.clear()
            self._waiting.set()
            self._released.wait()

    def _keep(self, envelope: Any) -> None:
        received_at = time.time()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, received_at)
        with self._lock:
            self.mail.append(received)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        # A sender that leaves while this waits (killed, say) cancels this coroutine
        # (aiosmtpd does on a lost connection): its message is never kept.
        await asyncio.get_running_loop().run_in_executor(None, self.server._wait_if_held)
        if smtp.transport is None or smtp.transport.is_closing():
            return "421 the sender left"
        self.server._keep(envelope)
        return "250 OK"


# TCP ---------------------------------------------------------------------------------------


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; :meth:`cut` severs it until :meth:`restore`.

    While cut, every open connection is closed and new ones are closed as soon as they
    arrive: to the code under test, the network to ``target`` is down.
    """

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._sockets.discard(a)
                self._sockets.discard(b)
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


# OTLP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as an exporter sent it: ids in hex ("" for a root's parent), its kind as
    OTLP names it (``SPAN_KIND_SERVER``...), its attributes as plain values."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any] = field(default_factory=dict)


class OtlpReceiver:
    """An OTLP/HTTP endpoint on ``127.0.0.1:<port>`` (``OTEL_EXPORTER_OTLP_ENDPOINT`` is
    :attr:`url`) that keeps every span exported to it in :attr:`spans`, and answers as a
    collector does. It reads protobuf only, the SDK's OTLP/HTTP exporter's default.

    With ``keep=False`` it reads each export and keeps nothing: a collector that costs the
    machine next to nothing, for benchmarks of what tracing costs the services."""

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.exports = 0
        #: What was refused, and why (an export that was no OTLP protobuf, say).
        self.errors: list[str] = []
        self.port = free_port()
        self._spans: list[ReceivedSpan] = []
        self._pending: list[Any] = []  # exports read, their spans not yet made ReceivedSpans
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far.

        Exports are only parsed as they arrive; their spans are made here, when asked
        for, so that a test process receiving a whole suite's spans spends its time (and
        its GIL) on them only when a test reads them."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._spans.extend(span for request in pending for span in _received(request))
            return list(self._spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans received so far of the trace ``trace_id``, oldest first."""
        return sorted(
            (span for span in self.spans if span.trace_id == trace_id),
            key=lambda span: span.start_ns,
        )

    def wait_for(self, trace_id: str, count: int, timeout: float = 30.0) -> list[ReceivedSpan]:
        """The trace's spans once at least ``count`` arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.trace(trace_id)
            if len(spans) >= count:
                return spans
            time.sleep(0.05)
        raise AssertionError(
            f"{len(self.trace(trace_id))} spans of {count} in {timeout}s; "
            f"exports refused: {self.errors or 'none'}"
        )

    def start(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                # The OTLP/HTTP path, or the root (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=url).
                if self.path not in ("/v1/traces", "/"):
                    self.answer(404)
                    return
                try:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    if self.headers.get("Content-Encoding") == "gzip":
                        body = gzip.decompress(body)
                    receiver._receive(body)
                except Exception as exc:  # noqa: BLE001 - refused, said, and kept for the test
                    with receiver._lock:
                        receiver.errors.append(repr(exc))
                    self.answer(400)
                    return
                self.answer(200)

            def answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _receive(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        with self._lock:
            self.exports += 1
        if not self.keep:
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)  # refused here if it is no OTLP
        with self._lock:
            self._pending.append(request)


def _received(request: Any) -> Iterator[ReceivedSpan]:
    """The spans of one OTLP export (an ``ExportTraceServiceRequest``)."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ReceivedSpan(
                    service=str(resource.get("service.name", "")),
                    name=span.name,
                    kind=Span.SpanKind.Name(span.kind),
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(),
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    status=Status.StatusCode.Name(span.status.code),
                    attributes=_attributes(span.attributes),
                )


def _attributes(pairs: Any) -> dict[str, Any]:
    """OTLP key-value pairs as a dict of plain values."""
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain one: a string, number, boolean, bytes, list or dict."""
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(each) for each in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, which) if which else None
