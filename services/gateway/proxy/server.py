"""The public listener's HTTP/1.1: uvicorn's httptools protocol, with the edge's own rules.

uvicorn reads requests with llhttp and runs one ASGI task per request on an
event loop, so a slow client costs a few kilobytes, not a thread. This
protocol adds what a public edge needs on top, each answered in the error
envelope with an ``X-Request-ID`` (never uvicorn's plain-text page), after
which the connection is closed and no byte that followed is read as a request:

- requests llhttp refuses (bad chunk sizes or chunk ends, bare LF, a
  ``Content-Length`` next to ``Transfer-Encoding``, invalid bytes): 400;
- ``Transfer-Encoding`` other than exactly one ``chunked`` (``identity,
  chunked``, ``Chunked``...), and header names with an underscore
  (``Content_Length`` means ``Content-Length`` to a CGI-style server behind
  us): 400;
- a request line over ``GATEWAY_MAX_REQUEST_LINE`` bytes: 414; headers over
  ``GATEWAY_MAX_HEADER_BYTES`` bytes or ``GATEWAY_MAX_HEADERS`` lines: 431;
- headers not complete within ``GATEWAY_HEADER_TIMEOUT`` seconds of the first
  byte, or a body not complete within ``GATEWAY_BODY_TIMEOUT`` seconds of the
  headers: 408 (a connection that sends nothing at all is closed quietly);
- ``CONNECT``, a target that is not a path (``http://...``, ``*``), or a request
  asking to switch protocols with a body: 400. A bodiless request asking to
  switch protocols (``Upgrade: h2c``) is served over HTTP/1.1, then closed.

uvicorn answers ``Expect: 100-continue`` itself, once, when the gateway starts
reading the body.

Every close is a lingering one: the answer is followed by a FIN, what the client
still sends is read and thrown away until it closes too (at most
``LINGER_SECONDS``), and only then is the socket closed. Closing at once with
unread bytes makes the kernel send a reset, which can destroy the answer
before the client reads it (a 413 for a body not read, a 400 mid-request).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import httptools
from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from souk_common.errors import ErrorCode, error_body
from souk_common.logging import request_id_var

logger = logging.getLogger(__name__)

_CODES = {
    400: ErrorCode.VALIDATION_ERROR,
    408: ErrorCode.REQUEST_TIMEOUT,
    414: ErrorCode.URI_TOO_LONG,
    431: ErrorCode.HEADERS_TOO_LARGE,
}
_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}


LINGER_SECONDS = 2.0


class LingeringTransport:
    """A transport whose ``close()`` half-closes first and drains (see the module's doc)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self.lingering = False

    def close(self) -> None:
        if self.lingering or self._transport.is_closing():
            return
        self.lingering = True
        if not self._transport.can_write_eof():
            self._transport.close()
            return
        self._transport.write_eof()
        self._transport.resume_reading()
        self._loop.call_later(LINGER_SECONDS, self._transport.close)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Rejected(Exception):
    """Raised from a parser callback: the request is refused with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class EdgeLimits:
    """The limits, read once from the gateway's settings."""

    def __init__(self) -> None:
        self.max_request_line = int(settings.GATEWAY_MAX_REQUEST_LINE)
        self.max_header_bytes = int(settings.GATEWAY_MAX_HEADER_BYTES)
        self.max_headers = int(settings.GATEWAY_MAX_HEADERS)
        self.header_timeout = float(settings.GATEWAY_HEADER_TIMEOUT)
        self.body_timeout = float(settings.GATEWAY_BODY_TIMEOUT)


class EdgeProtocol(HttpToolsProtocol):
    """``uvicorn --http proxy.server:EdgeProtocol`` (see ``gateway_service.serve``)."""

    _limits: EdgeLimits | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if EdgeProtocol._limits is None:
            EdgeProtocol._limits = EdgeLimits()
        self.limits = EdgeProtocol._limits
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_received = 0
        self._line_bytes = 0
        self._header_bytes = 0
        self._received_any = False
        self._done = False  # rejected, or past a protocol switch: read nothing more
        self._close_after = False

    # Connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._linger = LingeringTransport(transport, self.loop)
        super().connection_made(self._linger)  # type: ignore[arg-type]
        self._arm(self.limits.header_timeout, 408, "The request headers did not arrive in time.")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._done or self._linger.lingering:
            return  # after the answer that ended it: read, and thrown away
        self._unset_keepalive_if_required()
        self._received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, Rejected):
                self.reject(cause.status, cause.message)
            else:
                logger.warning("an unreadable request: %r", cause)
                self.reject(400, "The request could not be read.")
            return
        except httptools.HttpParserUpgrade:
            # A protocol switch we do not make: the request is served over HTTP/1.1
            # (on_headers_complete made sure it has no body), and nothing after it is read.
            self._done = True
            return
        except httptools.HttpParserError as exc:
            self.reject(400, f"Malformed HTTP request: {exc}.")
            return
        if self._in_head:
            self._head_received += len(data)
            if self._head_received > self.limits.max_request_line + self.limits.max_header_bytes:
                if self._header_bytes == 0:
                    self.reject(414, "The request line is too long.")
                else:
                    self.reject(431, "The request headers are too large.")

    def send_400_response(self, msg: str) -> None:
        self.reject(400, msg)

    # llhttp's callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._line_bytes = self._header_bytes = 0
        self._arm(self.limits.header_timeout, 408, "The request headers did not arrive in time.")

    def on_url(self, url: bytes) -> None:
        self._line_bytes += len(url)
        if self._line_bytes > self.limits.max_request_line:
            raise Rejected(414, "The request line is too long.")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.limits.max_header_bytes:
            raise Rejected(431, "The request headers are too large.")
        if len(self.headers) >= self.limits.max_headers:
            raise Rejected(431, "The request has too many header lines.")
        if b"_" in name:
            raise Rejected(400, "Header names may not contain underscores.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        self._head_received = 0
        self._check_framing()
        super().on_headers_complete()
        if self._close_after and self.cycle is not None:
            self.cycle.keep_alive = False
        if self._announces_body():
            self._arm(self.limits.body_timeout, 408, "The request body did not arrive in time.")

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True
        super().on_message_complete()

    def _check_framing(self) -> None:
        codings = [value for name, value in self.headers if name == b"transfer-encoding"]
        if codings and codings != [b"chunked"]:
            raise Rejected(400, 'The only Transfer-Encoding accepted is exactly "chunked".')
        if self.parser.get_method() == b"CONNECT":
            raise Rejected(400, "CONNECT is not supported.")
        if not self.url.startswith(b"/"):
            raise Rejected(400, "The request target must be a path.")
        if self.parser.should_upgrade():
            if self._announces_body():
                raise Rejected(400, "A request asking to switch protocols may not have a body.")
            self._close_after = True

    def _announces_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                return True
        return False

    # Refusals and deadlines ---------------------------------------------------------

    def reject(self, status: int, message: str) -> None:
        """Answer ``status`` in the envelope (unless an answer has begun), then close."""
        self._done = True
        self._disarm()
        if self.transport.is_closing():
            return
        request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            logger.warning("refused a request: %s %s", status, message)
            cycle = self.cycle
            if cycle is None or cycle.response_complete or not cycle.response_started:
                self.transport.write(_refusal(status, message, request_id))
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True  # the application's receive() says so
                cycle.message_event.set()
            self.pipeline.clear()
            self.transport.close()
        finally:
            request_id_var.reset(token)

    def _arm(self, seconds: float, status: int, message: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, status, message)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, status: int, message: str) -> None:
        self._deadline = None
        if not self._received_any:
            self._done = True
            self.transport.close()  # nothing was ever asked: nothing to answer
            return
        self.reject(status, message)


def _refusal(status: int, message: str, request_id: str) -> bytes:
    payload = json.dumps(error_body(_CODES[status], message)).encode()
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"x-request-id: %s\r\nconnection: close\r\n\r\n"
    )
    return head % (status, _REASONS[status], len(payload), request_id.encode()) + payload
