"""The public edge against the real services: answers never reach the wrong client, an
empty Idempotency-Key is refused, a burst of sign-ups from one address is queued, not
turned into 503s for everyone."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import statistics
import time
import uuid

import pytest
import requests

from harness import PASSWORD, RunningStack, bearer, register_and_sign_in


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of one answer with a Content-Length, read off a raw connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), body


def test_expect_100_continue_answers_each_client_its_own(system: RunningStack) -> None:
    """The desync once found: a sign-up with Expect got two "100 Continue" and never its
    201, and the next client on that upstream connection received it (or someone's
    tokens). Each sign-up now gets one interim answer and its own 201; every other
    client, signed in or not, gets its own answer."""
    signed_in = register_and_sign_in(system, f"expect{uuid.uuid4().hex[:8]}")
    port = system.stack.ports["gateway"]
    for _ in range(3):
        username = f"exp{uuid.uuid4().hex[:10]}"
        body = json.dumps(
            {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                b"POST /api/users/ HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(body)
            status, answer = read_answer(sock)

        assert status == 201, answer
        assert json.loads(answer)["username"] == username
        jwks = requests.get(f"{system.gateway}/api/auth/jwks.json", timeout=10)
        assert list(jwks.json()) == ["keys"]
        me = requests.get(
            f"{system.gateway}/api/users/me/", headers=bearer(signed_in["access"]), timeout=10
        )
        assert me.json()["username"].startswith("expect")


def test_an_empty_idempotency_key_is_refused_not_dropped(system: RunningStack) -> None:
    tokens = register_and_sign_in(system, f"blankkey{uuid.uuid4().hex[:8]}")

    response = requests.post(
        f"{system.gateway}/api/orders/",
        json={"items": [{"product_id": 1, "quantity": 1}]},
        headers={**bearer(tokens["access"]), "Idempotency-Key": ""},
        timeout=10,
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]


def test_a_burst_of_sign_ups_from_one_address_is_queued_not_refused(system: RunningStack) -> None:
    """48 sign-ups, 16 at a time from one address (far under the rate limit): each one
    hashes a password for most of a second of users' CPU. Once, this opened the users
    breaker for everyone; now the burst waits its turn and every sign-up succeeds."""
    run = uuid.uuid4().hex[:6]

    def sign_up(n: int) -> int:
        username = f"burst{run}{n}"
        return requests.post(
            f"{system.gateway}/api/users/",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            timeout=60,
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(sign_up, range(48)))

    assert statuses == [201] * 48
    assert requests.get(f"{system.gateway}/api/auth/jwks.json", timeout=10).status_code == 200


def exchange(port: int, data: bytes, timeout: float = 10.0) -> tuple[bytes, bool]:
    """Send raw bytes; everything the gateway sent back, and whether it then closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
        return received, True


def smuggled_sign_up(username: str) -> bytes:
    """A complete, valid sign-up, to send after a bad request: it must never be read."""
    body = json.dumps(
        {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    ).encode()
    return (
        b"POST /api/users/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


SIGN_UP = b"POST /api/users/ HTTP/1.1\r\nHost: localhost\r\n"
MALFORMED = {
    "a chunk size that is not hex": SIGN_UP + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "more data than the chunk announced": SIGN_UP
    + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
    "Transfer-Encoding: identity, chunked": SIGN_UP
    + b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
    "Content_Length": SIGN_UP + b"Content_Length: 2\r\n\r\n{}",
    "Content-Length and Transfer-Encoding": SIGN_UP
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare LF": b"POST /api/users/ HTTP/1.1\nHost: localhost\nContent-Length: 2\n\n{}",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_framing_is_refused_and_nothing_after_it_is_read(
    system: RunningStack, name: str
) -> None:
    username = f"smuggled{uuid.uuid4().hex[:8]}"

    answer, closed = exchange(
        system.stack.ports["gateway"], MALFORMED[name] + smuggled_sign_up(username)
    )

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"x-request-id: " in head.lower()
    assert json.loads(body)["error"]["code"] == "validation_error"
    assert closed
    signed_in = requests.post(
        f"{system.gateway}/api/auth/token/",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert signed_in.status_code == 401  # the sign-up after it never happened


@pytest.mark.parametrize("host", [b"attacker.example", b"user@localhost", b"localhost/x"])
def test_a_host_that_is_not_allowed_never_reaches_a_service(system: RunningStack, host) -> None:
    username = f"wronghost{uuid.uuid4().hex[:8]}"
    request = smuggled_sign_up(username).replace(b"Host: localhost", b"Host: " + host)

    answer, closed = exchange(system.stack.ports["gateway"], request)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert closed
    signed_in = requests.post(
        f"{system.gateway}/api/auth/token/",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert signed_in.status_code == 401


def test_500_slow_connections_leave_normal_requests_fast(system: RunningStack) -> None:
    port = system.stack.ports["gateway"]
    url = f"{system.gateway}/api/products/categories/"
    session = requests.Session()
    for _ in range(20):
        session.get(url, timeout=10)
    slow: list[socket.socket] = []
    try:
        for n in range(500):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(
                b"GET /api/products/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
                if n % 2
                else SIGN_UP + b"Content-Length: 100000\r\n\r\n{"
            )
            slow.append(sock)
        measured = []
        for n in range(200):
            if n % 20 == 0:
                for sock in slow:
                    sock.send(b"a")  # one more byte each: still not done
            started = time.monotonic()
            assert session.get(url, timeout=10).status_code == 200
            measured.append(time.monotonic() - started)
        still_open = 0
        for sock in slow:
            try:
                sock.send(b"a")
                still_open += 1
            except OSError:
                pass
    finally:
        for sock in slow:
            sock.close()

    assert still_open == 500
    assert statistics.quantiles(measured, n=100)[98] < 0.1
