"""Keep-alive HTTP/1.1 connections to our own services: a pool for threads, one for asyncio.

Both pools send a request, let :class:`~souk_common.http1.ResponseReader`
(llhttp) read the answer, and give a connection back for the next request only
when the reader says the answer ended exactly where it should and the upstream
keeps the connection open; every other connection is closed. A connection is
never shared by two requests at once, and an idle one that has anything to
read (its end, or bytes nobody asked for) is closed before it is used again.
So whatever an upstream sends, no caller ever reads another caller's answer.

:class:`Pool` serves :class:`~souk_common.clients.ServiceClient` (Django's
threads); :class:`AsyncPool` serves the gateway (one event loop). Failures are
typed: :class:`Refused` (nothing listens, the connection was reset or closed
early), :class:`TimedOut`, :class:`Malformed` (bad framing).

The pools are written here, on llhttp, because they are several times cheaper
per call than urllib3 or aiohttp and because urllib3 (http.client) takes an
interim ``103`` for the final answer (docs/benchmarks.md, "The upstream client").
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from souk_common.http1 import Malformed, Refused, ResponseReader, TimedOut, UpstreamFailure

__all__ = [
    "AsyncPool",
    "AsyncResponse",
    "Malformed",
    "Pool",
    "Refused",
    "Response",
    "TimedOut",
    "UpstreamFailure",
]

CHUNK = 64 * 1024
# An asyncio connection stops reading when this much body waits to be taken.
HIGH_WATER = 256 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def origin(url: str) -> tuple[str, int]:
    """Host and port of an ``http://`` URL (our services speak plain HTTP inside)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url!r}: only http://host[:port] URLs are supported")
    return parts.hostname, parts.port or 80


def request_head(method: str, target: str, host: str, headers: Mapping[str, str]) -> bytes:
    """The request line and headers; a CR or LF in any of them is refused."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    head = "\r\n".join(lines)
    breaks = len(lines) - 1  # the ones put there by the join
    if head.count("\r") != breaks or head.count("\n") != breaks:
        raise ValueError("a request line or header holds CR or LF")
    return (head + "\r\n\r\n").encode("latin-1")


def _readable(sock: socket.socket) -> bool:
    """True when a socket has something to read now (bytes, or its end); never waits."""
    sock.settimeout(0)  # a socket with a timeout would wait for it before peeking
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


class _ClosedUnanswered(Exception):
    """The connection ended before a single byte of the answer: the request may never
    have been seen, so an idempotent one may go again on a fresh connection."""


# Threads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A complete answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Connection:
    """One keep-alive socket."""

    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        except TimeoutError as exc:
            raise TimedOut(f"connect to {host}:{port} timed out") from exc
        except OSError as exc:
            raise Refused(f"connect to {host}:{port} failed: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def stale(self) -> bool:
        """True when the idle connection has something to read: its end, or stray bytes."""
        return _readable(self.sock)

    def close(self) -> None:
        self.sock.close()


class Pool:
    """Idle keep-alive connections to one service, for threads; most recent first."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.host_header = f"{host}:{port}"
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, size: int) -> Pool:
        """A pool for the host and port of ``url``."""
        return cls(*origin(url), size)

    def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> Response:
        """Send one request and read its whole answer.

        ``read_timeout`` bounds each wait for bytes. A reused connection that
        turns out closed before any answer is replaced by a fresh one for
        idempotent methods; any other request is never sent twice.
        """
        payload = request_head(method, target, self.host_header, headers) + (body or b"")
        reused = self._take()
        if reused is not None:
            try:
                return self._exchange(reused, method, payload, read_timeout)
            except _ClosedUnanswered:
                if method not in IDEMPOTENT:
                    raise Refused("the connection closed before an answer") from None
        connection = _Connection(self.host, self.port, connect_timeout)
        try:
            return self._exchange(connection, method, payload, read_timeout)
        except _ClosedUnanswered:
            raise Refused("the connection closed before an answer") from None

    def _take(self) -> _Connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if not connection.stale():
                return connection
            connection.close()

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(connection)
                return
        connection.close()

    def _exchange(
        self, connection: _Connection, method: str, payload: bytes, read_timeout: float
    ) -> Response:
        reader = ResponseReader(head_only=method == "HEAD")
        answered = False
        try:
            connection.sock.settimeout(read_timeout)
            connection.sock.sendall(payload)
            while not reader.complete:
                data = connection.sock.recv(CHUNK)
                if not data:
                    if not answered:
                        raise _ClosedUnanswered
                    reader.feed_eof()
                    break
                answered = True
                reader.feed(data)
        except (UpstreamFailure, _ClosedUnanswered):
            connection.close()
            raise
        except TimeoutError as exc:
            connection.close()
            raise TimedOut("no answer within the read timeout") from exc
        except OSError as exc:
            connection.close()
            if not answered:
                raise _ClosedUnanswered from exc
            raise Refused(f"the call failed: {exc}") from exc
        answer = Response(reader.status, reader.headers, reader.take_body())
        if reader.reusable:
            self._give_back(connection)
        else:
            connection.close()
        return answer


# asyncio ---------------------------------------------------------------------------


class _Channel(asyncio.Protocol):
    """One keep-alive connection on the event loop; reads go through a ResponseReader."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.reader: ResponseReader | None = None
        self.failure: UpstreamFailure | None = None
        self.closed = False
        self.answered = False
        self._waiter: asyncio.Future[None] | None = None
        self._peek: socket.socket | None = None

    # asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        # Our own handle on the socket, to peek before reuse: bytes that reached the
        # kernel while the loop was busy are not yet data_received().
        self._peek = socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno()))

    def data_received(self, data: bytes) -> None:
        if self.reader is None:
            self.close()  # bytes on an idle connection: nobody's answer, never anyone's
            return
        self.answered = True
        try:
            self.reader.feed(data)
        except UpstreamFailure as exc:
            self.failure = exc
            self.close()
        else:
            if self.reader.buffered > HIGH_WATER and self.transport is not None:
                self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._ended()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended()

    # The pool's side

    @property
    def usable(self) -> bool:
        """Idle, open, and with nothing to read (neither its end nor stray bytes)."""
        if self.closed or self.reader is not None:
            return False
        if self._peek is not None and _readable(self._peek):
            self.close()
            return False
        return True

    async def send(self, payload: bytes, *, head_only: bool, read_timeout: float) -> None:
        """Send a request and wait until its answer's headers are in."""
        self.reader = ResponseReader(head_only=head_only)
        self.answered = False
        assert self.transport is not None
        self.transport.write(payload)
        await self._until(lambda reader: reader.headers_done, read_timeout)

    async def body(self, read_timeout: float) -> AsyncIterator[bytes]:
        """The answer's body as it arrives (``read_timeout`` between two pieces)."""
        reader, transport = self.reader, self.transport
        assert reader is not None
        assert transport is not None
        while True:
            data = reader.take_body()
            if data:
                transport.resume_reading()
                yield data
                # While the piece was sent on, more may have come, the answer's end with
                # it: what came is taken before the end is looked at.
                continue
            if reader.complete:
                return
            await self._until(lambda r: r.buffered > 0 or r.complete, read_timeout)

    def finish(self) -> bool:
        """The exchange is over: True if the connection may carry the next request."""
        reusable = self.reader is not None and self.reader.reusable and not self.closed
        self.reader = None
        if not reusable:
            self.close()
        return reusable

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        if self._peek is not None:
            self._peek.close()
            self._peek = None

    # Waiting

    def _ended(self) -> None:
        self.close()
        if self.reader is not None and self.failure is None and self.answered:
            try:
                self.reader.feed_eof()
            except UpstreamFailure as exc:
                self.failure = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _until(self, ready: Callable[[ResponseReader], bool], timeout: float) -> None:
        reader = self.reader
        assert reader is not None
        while True:
            if self.failure is not None:
                raise self.failure
            if ready(reader):
                return
            if self.closed:
                if not self.answered:
                    raise _ClosedUnanswered
                raise Refused("the connection closed inside the answer")
            waiter = self.loop.create_future()
            self._waiter = waiter
            timer = self.loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimedOut("no answer within the read timeout"))


class AsyncResponse:
    """An answer whose headers are in; read the body with :meth:`read` or :meth:`stream`,
    or give up with :meth:`close`. The connection goes back to the pool only after
    the whole body was read."""

    def __init__(self, pool: AsyncPool, channel: _Channel, read_timeout: float) -> None:
        reader = channel.reader
        assert reader is not None
        self.status = reader.status
        self.headers = reader.headers
        self._pool = pool
        self._channel: _Channel | None = channel
        self._read_timeout = read_timeout

    @property
    def length(self) -> int | None:
        """The announced ``Content-Length``, if any (llhttp checked it is one number)."""
        for name, value in self.headers:
            if name.lower() == "content-length":
                return int(value)
        return None

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([piece async for piece in self.stream()])

    async def stream(self) -> AsyncIterator[bytes]:
        """The body, piece by piece."""
        channel = self._channel
        if channel is None:
            return
        try:
            async for piece in channel.body(self._read_timeout):
                yield piece
        except _ClosedUnanswered:
            raise Refused("the connection closed inside the answer") from None
        finally:
            self.close()

    def close(self) -> None:
        """Done with the answer: the connection is reused if it ended cleanly, else closed."""
        channel, self._channel = self._channel, None
        if channel is not None and channel.finish():
            self._pool._give_back(channel)


class AsyncPool:
    """Idle keep-alive connections to one service, for one event loop; most recent first."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.host_header = f"{host}:{port}"
        self._idle: list[_Channel] = []

    @classmethod
    def from_url(cls, url: str, size: int) -> AsyncPool:
        """A pool for the host and port of ``url``."""
        return cls(*origin(url), size)

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> AsyncResponse:
        """Send one request and wait for its answer's headers (see :class:`Pool`)."""
        payload = request_head(method, target, self.host_header, headers) + (body or b"")
        head_only = method == "HEAD"
        while self._idle:
            channel = self._idle.pop()
            if not channel.usable:
                continue
            try:
                await channel.send(payload, head_only=head_only, read_timeout=read_timeout)
            except _ClosedUnanswered:
                if method not in IDEMPOTENT:
                    raise Refused("the connection closed before an answer") from None
                break
            except BaseException:
                channel.close()
                raise
            return AsyncResponse(self, channel, read_timeout)
        channel = await self._connect(connect_timeout)
        try:
            await channel.send(payload, head_only=head_only, read_timeout=read_timeout)
        except _ClosedUnanswered:
            channel.close()
            raise Refused("the connection closed before an answer") from None
        except BaseException:
            channel.close()
            raise
        return AsyncResponse(self, channel, read_timeout)

    async def _connect(self, timeout: float) -> _Channel:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, channel = await loop.create_connection(
                    lambda: _Channel(loop), self.host, self.port
                )
        except TimeoutError:
            raise TimedOut(f"connect to {self.host}:{self.port} timed out") from None
        except OSError as exc:
            raise Refused(f"connect to {self.host}:{self.port} failed: {exc}") from exc
        return channel

    def _give_back(self, channel: _Channel) -> None:
        if len(self._idle) < self.size:
            self._idle.append(channel)
        else:
            channel.close()

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()
