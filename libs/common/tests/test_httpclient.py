"""Conformance of the upstream client pools against an upstream that misbehaves on purpose.

Each case scripts the raw bytes of one answer (interim answers, bodies shorter
or longer than announced, conflicting framing, malformed chunks, a connection
closed or kept open). For every case, with both pools (threads and asyncio),
the first request gets the answer HTTP says it got -- or a typed failure --
and the request after it, on the same pool, gets its own answer and nobody
else's: no answer ever reaches the wrong caller.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from souk_common.httpclient import AsyncPool, Malformed, Pool, Refused, TimedOut


@dataclass(frozen=True)
class Case:
    """What the upstream sends for ``GET /case/<name>``, and what the caller must see."""

    pieces: tuple[bytes, ...]  # sent one after the other, 20 ms apart
    then: str = "keep"  # "keep" the connection open, or "close" it
    expect: tuple[int, bytes] | type[Exception] = (200, b"ok")


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"

CASES = {
    # Interim answers are skipped, never taken for the final one.
    "continue": Case((b"HTTP/1.1 100 Continue\r\n\r\n" + OK,)),
    "continue-twice": Case((b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n", OK)),
    "early-hints": Case((b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + OK,)),
    "processing": Case((b"HTTP/1.1 102 Processing\r\n\r\n", OK)),
    "created-after-continue": Case(
        (b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew"),
        expect=(201, b"new"),
    ),
    "switching-protocols": Case(
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",),
        expect=Malformed,
    ),
    # Connection: close is honoured even when the upstream keeps the socket open.
    "close-kept-open": Case(
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",)
    ),
    "close-and-closed": Case(
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",), then="close"
    ),
    "closed-without-saying": Case((OK,), then="close"),
    "http10-until-close": Case((b"HTTP/1.0 200 OK\r\n\r\nok",), then="close"),
    "unframed-until-close": Case((b"HTTP/1.1 200 OK\r\n\r\no", b"k"), then="close"),
    # Bodies shorter or longer than announced.
    "short-then-closed": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",), then="close", expect=Refused
    ),
    "short-then-silent": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",), expect=TimedOut
    ),
    "longer-than-announced": Case((OK + b"EXTRA",)),
    "a-second-answer-at-once": Case((OK + SMUGGLED,)),
    "a-second-answer-later": Case((OK, SMUGGLED)),
    # Conflicting framing is malformed, never guessed at.
    "two-lengths": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nok",),
        expect=Malformed,
    ),
    "same-length-twice": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",),
        expect=Malformed,
    ),
    "length-and-chunked": Case(
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nok\r\n0\r\n\r\n",
        ),
        expect=Malformed,
    ),
    "length-not-a-number": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok",), expect=Malformed
    ),
    "chunked-is-not-a-substring": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: notchunked\r\n\r\nok",), then="close"
    ),
    "chunked": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n", b"1\r\nk\r\n0\r\n\r\n")
    ),
    # Malformed chunks.
    "chunk-size-not-hex": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",),
        expect=Malformed,
    ),
    "chunk-size-0x": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",),
        expect=Malformed,
    ),
    "chunk-size-negative": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",),
        expect=Malformed,
    ),
    "chunk-without-its-crlf": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",),
        expect=Malformed,
    ),
    "chunk-longer-than-its-size": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nok\r\n0\r\n\r\n",),
        expect=Malformed,
    ),
    "chunked-cut-short": Case(
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",),
        then="close",
        expect=Refused,
    ),
    # Not HTTP/1.1 as it should be.
    "bare-lf": Case((b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",), expect=Malformed),
    "not-http": Case((b"SSH-2.0-OpenSSH_9.2\r\n",), expect=Malformed),
    "header-without-colon": Case(
        (b"HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok",), expect=Malformed
    ),
    "nothing-then-closed": Case((), then="close", expect=Refused),
    "one-byte-at-a-time": Case(tuple(bytes([b]) for b in OK)),
    "no-content": Case((b"HTTP/1.1 204 No Content\r\n\r\n",), expect=(204, b"")),
}


class MisbehavingUpstream:
    """A TCP server answering ``/case/<name>`` from :data:`CASES`, anything else properly:
    ``200`` with the request's path as the body, so an answer names its request."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            buffered = b""
            while True:
                while b"\r\n\r\n" not in buffered:
                    data = connection.recv(65536)
                    if not data:
                        return
                    buffered += data
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                method, path = head.split(b" ")[:2]
                name = path.decode().removeprefix("/case/")
                case = CASES.get(name) if path.startswith(b"/case/") else None
                if case is None:
                    answer = path if method != b"HEAD" else b""
                    length = len(path)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (length, answer)
                    )
                    continue
                for piece in case.pieces:
                    connection.sendall(piece)
                    time.sleep(0.02)
                if case.then == "close":
                    return


@pytest.fixture(scope="module")
def upstream() -> Iterator[MisbehavingUpstream]:
    server = MisbehavingUpstream()
    yield server
    server.close()


def sync_get(pool: Pool, path: str, method: str = "GET") -> tuple[int, bytes]:
    answer = pool.request(method, path, {}, None, connect_timeout=1, read_timeout=0.5)
    return answer.status, answer.body


def async_get(pool: AsyncPool, path: str, method: str = "GET") -> tuple[int, bytes]:
    async def call() -> tuple[int, bytes]:
        answer = await pool.request(method, path, {}, None, connect_timeout=1, read_timeout=0.5)
        return answer.status, await answer.read()

    return LOOP.run_until_complete(call())


# One loop for the asyncio pool's connections, kept between the calls of a test.
LOOP = asyncio.new_event_loop()


@pytest.fixture(params=["threads", "asyncio"])
def get(request: pytest.FixtureRequest, upstream: MisbehavingUpstream):
    """``get(path)`` through a fresh pool of one kind: (status, body) of the answer."""
    if request.param == "threads":
        pool = Pool("127.0.0.1", upstream.port, 4)
        return lambda path, method="GET": sync_get(pool, path, method)
    async_pool = AsyncPool("127.0.0.1", upstream.port, 4)
    return lambda path, method="GET": async_get(async_pool, path, method)


def test_an_answer_streamed_to_a_slow_caller_is_given_whole(upstream: MisbehavingUpstream) -> None:
    """The gateway sends each piece on to its client before it takes the next: the rest of
    the answer, its end included, may arrive meanwhile, and is given all the same."""
    pool = AsyncPool("127.0.0.1", upstream.port, 4)

    async def call() -> bytes:
        answer = await pool.request(
            "GET", "/case/chunked", {}, None, connect_timeout=1, read_timeout=0.5
        )
        pieces = []
        async for piece in answer.stream():
            pieces.append(piece)
            await asyncio.sleep(0.1)  # the client takes its time: the end arrives meanwhile
        return b"".join(pieces)

    assert LOOP.run_until_complete(call()) == b"ok"


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_answer_reaches_its_own_caller(get, name: str) -> None:
    case = CASES[name]

    if isinstance(case.expect, tuple):
        assert get(f"/case/{name}") == case.expect
    else:
        with pytest.raises(case.expect):
            get(f"/case/{name}")
    time.sleep(0.1)  # anything the upstream sends late has arrived

    assert get("/next") == (200, b"/next")
    assert get("/after-that") == (200, b"/after-that")


def test_keep_alive_reuses_one_connection(get, upstream: MisbehavingUpstream) -> None:
    before = upstream.connections

    for n in range(5):
        assert get(f"/again/{n}") == (200, f"/again/{n}".encode())

    assert upstream.connections == before + 1


@pytest.mark.parametrize(
    "name", ["close-kept-open", "longer-than-announced", "a-second-answer-later"]
)
def test_a_connection_in_doubt_is_never_reused(get, upstream: MisbehavingUpstream, name) -> None:
    get(f"/case/{name}")
    time.sleep(0.1)
    before = upstream.connections

    get("/next")

    assert upstream.connections == before + 1


def test_head_reads_no_body_and_does_not_reuse_the_connection(get, upstream) -> None:
    assert get("/head", method="HEAD") == (200, b"")
    before = upstream.connections

    assert get("/next") == (200, b"/next")
    assert upstream.connections == before + 1


def test_keep_alive_works_above_file_descriptor_1024(upstream: MisbehavingUpstream) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this machine allows only {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [socket.socket() for _ in range(1100)]
    try:
        pool = Pool("127.0.0.1", upstream.port, 4)
        before = upstream.connections

        assert sync_get(pool, "/high-1") == (200, b"/high-1")
        assert sync_get(pool, "/high-2") == (200, b"/high-2")

        assert upstream.connections == before + 1
    finally:
        for sock in filler:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_request_with_a_line_break_in_a_header_is_never_sent() -> None:
    pool = Pool("127.0.0.1", 9, 1)

    with pytest.raises(ValueError, match="CR or LF"):
        pool.request(
            "GET", "/", {"X-A": "1\r\nX-Injected: yes"}, None, connect_timeout=1, read_timeout=1
        )
