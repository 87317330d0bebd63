"""The public edge against the real services: answers never reach the wrong client, an
empty Idempotency-Key is refused, a burst of sign-ups from one address is queued, not
turned into 503s for everyone."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import uuid

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
