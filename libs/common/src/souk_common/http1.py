"""HTTP/1.1 answers, read off a connection with llhttp (the parser of Node.js, via httptools).

This module does no I/O: :class:`ResponseReader` is fed the bytes one
connection received and says what they mean -- the final answer's status,
headers and body, whether the answer is complete, and whether the connection
may carry another request. The pools in :mod:`souk_common.httpclient` (one
with sockets, one on asyncio) drive it; framing is never decided by hand.

What the reader guarantees, whatever the other side sends:

- interim answers (``1xx``) are skipped, never taken for the final one; ``101``
  (a protocol switch nobody asked for) is malformed;
- a framing llhttp refuses (duplicate or conflicting ``Content-Length``, both
  ``Content-Length`` and ``Transfer-Encoding``, bad chunk sizes or chunk ends,
  bare LF, invalid header bytes) is :class:`Malformed`;
- a body cut short by the end of the connection is :class:`Refused`;
- bytes after the end of the answer (a body longer than announced, an
  unrequested second answer) make the connection unusable, as does any answer
  that is not keep-alive: :attr:`ResponseReader.reusable` is False, and the pool
  closes it.
"""

from __future__ import annotations

from collections import deque

import httptools

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamFailure(Exception):
    """The call did not get a complete, well-framed answer."""


class Refused(UpstreamFailure):
    """Connection refused, reset or closed before the answer was complete."""


class TimedOut(UpstreamFailure):
    """No connection, or no answer, within the timeout."""


class Malformed(UpstreamFailure):
    """The other side spoke something that is not HTTP/1.1 as llhttp reads it."""


class _Overrun(Exception):
    """Raised from a parser callback to stop reading past the end of the answer."""


class ResponseReader:
    """One request's answer, from the bytes its connection received.

    Feed it with :meth:`feed` (and :meth:`feed_eof` when the connection ends);
    read :attr:`status` and :attr:`headers` once :attr:`headers_done`, take body
    pieces with :meth:`take_body`, and stop once :attr:`complete`.

    ``head_only`` is for answers to ``HEAD``, whose ``Content-Length`` announces
    a body that never comes: the answer is complete with its headers, and the
    connection is not reused (llhttp cannot be told to expect no body).
    """

    __slots__ = (
        "_body",
        "_body_size",
        "_head_bytes",
        "_head_only",
        "_parser",
        "complete",
        "headers",
        "headers_done",
        "keep_alive",
        "overrun",
        "status",
        "until_close",
    )

    def __init__(self, *, head_only: bool = False) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self._body: deque[bytes] = deque()
        self._body_size = 0
        self._head_bytes = 0
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.overrun = False
        self.until_close = False

    # What the pools call ---------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse what the connection received; raise :class:`Malformed` on bad framing."""
        if self.complete:
            self.overrun = True
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, Malformed):
                raise cause from None
            if not isinstance(cause, _Overrun):
                raise Malformed(f"unreadable answer: {cause or exc}") from None
        except httptools.HttpParserUpgrade:
            raise Malformed("the upstream switched protocols") from None
        except httptools.HttpParserError as exc:
            raise Malformed(f"bad framing: {exc}") from None

    def feed_eof(self) -> None:
        """The connection ended: complete an answer delimited by it, or fail."""
        if self.complete:
            return
        if self.headers_done and self.until_close:
            self.complete = True
            self.keep_alive = False
            return
        where = "inside the body" if self.headers_done else "before an answer"
        raise Refused(f"the connection closed {where}")

    def take_body(self) -> bytes:
        """The body bytes received since the last call."""
        if not self._body:
            return b""
        data = self._body.popleft() if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self._body_size = 0
        return data

    @property
    def buffered(self) -> int:
        """Body bytes received and not yet taken (for flow control)."""
        return self._body_size

    @property
    def reusable(self) -> bool:
        """True when the connection may carry the next request."""
        return self.complete and self.keep_alive and not self.overrun and not self._head_only

    # llhttp's callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            # Bytes after the end of the answer: whatever they are, not ours to read.
            self.overrun = True
            raise _Overrun
        self.headers = []
        self._head_bytes = 0

    def on_status(self, status: bytes) -> None:
        self._count(len(status))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        if len(self.headers) >= MAX_HEADERS:
            raise Malformed("too many header lines")
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status == 101:
            raise Malformed("the upstream switched protocols")
        if 100 <= status < 200:
            return  # an interim answer: its end is on_message_complete, the final one follows
        self.status = status
        self.headers_done = True
        self.keep_alive = self._parser.should_keep_alive()
        if self._head_only:
            self.complete = True
            self.keep_alive = False
            raise _Overrun  # stop here: the announced body is not coming
        # llhttp's rule: no Content-Length and no final "chunked" coding means the body
        # runs to the end of the connection.
        length = chunked = False
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "content-length":
                length = True
            elif lowered == "transfer-encoding":
                chunked = value.rsplit(",", 1)[-1].strip().lower() == "chunked"
        self.until_close = not (length or chunked) and status not in NO_BODY_STATUSES

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._body_size += len(body)

    def on_message_complete(self) -> None:
        if not self.headers_done:
            return  # the end of an interim answer
        self.complete = True

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise Malformed("oversized status line or headers")
