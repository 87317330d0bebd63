"""A lean HTTP/1.1 client for calls between our services: keep-alive sockets, nothing else.

Written by hand because it is measurably cheaper than urllib3, let alone
requests (docs/benchmarks.md: about 40 us of client work per call against about
175 us and 600 us), and these calls are on the path of every request the
gateway forwards and of every order. It needs only a sliver of HTTP: one
request per connection at a time, bodies with ``Content-Length`` or chunked,
keep-alive unless the other side says ``Connection: close``. The other side is
always one of our own services.

Failures are typed: :class:`Refused` (nothing listens, or the connection was
reset), :class:`TimedOut` (connect or read timeout), :class:`Malformed` (the
upstream spoke something that is not HTTP/1.x).
"""

from __future__ import annotations

import io
import select
import socket
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

MAX_LINE = 65536
MAX_HEADERS = 100
CHUNK = 64 * 1024
NO_BODY_STATUSES = frozenset({204, 304})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class UpstreamFailure(Exception):
    """The call did not get a complete answer."""


class Refused(UpstreamFailure):
    """Connection refused, reset or closed before an answer."""


class TimedOut(UpstreamFailure):
    """No connection, or no answer, within the timeout."""


class Malformed(UpstreamFailure):
    """The answer is not HTTP/1.x as we know it."""


class Connection:
    """One keep-alive connection to an upstream."""

    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        except TimeoutError as exc:
            raise TimedOut(f"connect to {host}:{port} timed out") from exc
        except OSError as exc:
            raise Refused(f"connect to {host}:{port} failed: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = cast(io.BufferedReader, self.sock.makefile("rb", buffering=CHUNK))

    def dropped(self) -> bool:
        """True when the idle connection was closed by the other side (readable = EOF)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


@dataclass
class Response:
    """Status and headers of an answer; the body is read with :meth:`read` or :meth:`stream`."""

    status: int
    headers: list[tuple[str, str]]
    length: int | None
    chunked: bool
    keep_alive: bool
    connection: Connection
    pool: Pool

    def read(self) -> bytes:
        """The whole body (for answers known to be small); the connection goes back to the pool."""
        try:
            data = b"".join(self._body())
        except BaseException:
            self.connection.close()
            raise
        self._finish()
        return data

    def stream(self) -> Generator[bytes, None, None]:
        """The body in chunks; the connection goes back to the pool once it is all read."""
        try:
            yield from self._body()
        except BaseException:
            self.connection.close()
            raise
        self._finish()

    def discard(self) -> None:
        """Give up on the body (the client went away): close the connection."""
        self.connection.close()

    def _finish(self) -> None:
        if self.keep_alive:
            self.pool.put(self.connection)
        else:
            self.connection.close()

    def _body(self) -> Iterator[bytes]:
        reader = self.connection.reader
        try:
            if self.chunked:
                while True:
                    size_line = reader.readline(MAX_LINE)
                    try:
                        size = int(size_line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        raise Malformed("bad chunk size") from None
                    if size == 0:
                        while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                            pass  # trailers: dropped, like every hop-by-hop header
                        return
                    data = reader.read(size)
                    reader.readline(MAX_LINE)
                    if len(data) < size:
                        raise Refused("connection closed inside a chunk")
                    yield data
            elif self.length is not None:
                remaining = self.length
                while remaining:
                    data = reader.read1(min(remaining, CHUNK))
                    if not data:
                        raise Refused("connection closed inside the body")
                    remaining -= len(data)
                    yield data
            else:  # delimited by the end of the connection
                self.keep_alive = False
                while data := reader.read1(CHUNK):
                    yield data
        except TimeoutError as exc:
            raise TimedOut("reading the body timed out") from exc
        except OSError as exc:
            raise Refused(f"reading the body failed: {exc}") from exc


class Pool:
    """Idle keep-alive connections to one service, reused most recent first."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.host_header = f"{host}:{port}"
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, size: int) -> Pool:
        """A pool for the host and port of ``url`` (``http://`` only: our services)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r}: only http://host[:port] URLs are supported")
        return cls(parts.hostname, parts.port or 80, size)

    def put(self, connection: Connection) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(connection)
                return
        connection.close()

    def _take(self) -> Connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if not connection.dropped():
                return connection
            connection.close()

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> Response:
        """Send one request and read the status line and headers of its answer."""
        head = [f"{method} {target} HTTP/1.1\r\nHost: {self.host_header}\r\n"]
        head.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        head.append("\r\n")
        payload = "".join(head).encode("latin-1") + (body or b"")
        reused = self._take()
        if reused is not None:
            try:
                return self._exchange(reused, method, payload, read_timeout)
            except Refused:
                # The upstream closed this idle connection as we used it. An idempotent
                # request is sent again on a fresh one; any other is not (never retried).
                if method not in IDEMPOTENT:
                    raise
        connection = Connection(self.host, self.port, connect_timeout)
        return self._exchange(connection, method, payload, read_timeout)

    def _exchange(
        self, connection: Connection, method: str, payload: bytes, read_timeout: float
    ) -> Response:
        try:
            connection.sock.settimeout(read_timeout)
            connection.sock.sendall(payload)
            return self._response(connection, method)
        except UpstreamFailure:
            connection.close()
            raise
        except TimeoutError as exc:
            connection.close()
            raise TimedOut("no answer within the read timeout") from exc
        except OSError as exc:
            connection.close()
            raise Refused(f"the call failed: {exc}") from exc

    def _response(self, connection: Connection, method: str) -> Response:
        reader = connection.reader
        status_line = reader.readline(MAX_LINE)
        if not status_line:
            raise Refused("the connection closed before an answer")
        try:
            version, status_text = status_line.split(None, 2)[:2]
            status = int(status_text)
        except ValueError:
            raise Malformed(f"bad status line {status_line[:80]!r}") from None
        if not version.startswith(b"HTTP/1."):
            raise Malformed(f"not HTTP/1.x: {version[:20]!r}")
        headers: list[tuple[str, str]] = []
        length: int | None = None
        chunked = False
        keep_alive = version == b"HTTP/1.1"
        while True:
            line = reader.readline(MAX_LINE)
            if line in (b"\r\n", b"\n"):
                break
            if not line or len(headers) >= MAX_HEADERS:
                raise Malformed("unterminated or oversized headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise Malformed("a header line without a colon")
            name, value = name.strip(), value.strip()
            lowered = name.lower()
            if lowered == "content-length":
                if not value.isdigit():
                    raise Malformed("bad Content-Length")
                length = int(value)
            elif lowered == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif lowered == "connection":
                tokens = value.lower()
                keep_alive = "close" not in tokens and (keep_alive or "keep-alive" in tokens)
            headers.append((name, value))
        if method == "HEAD" or status in NO_BODY_STATUSES or 100 <= status < 200:
            length, chunked = 0, False
        if chunked:
            length = None
        return Response(status, headers, length, chunked, keep_alive, connection, self)
