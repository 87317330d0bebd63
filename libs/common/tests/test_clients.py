"""ServiceClient: timeouts, typed failures, retries only where safe, breaker, tokens."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses

from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient, ServiceTokenProvider
from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from souk_common.logging import request_id_var

BASE = "http://products.test"


@pytest.fixture
def client():
    return ServiceClient("products", BASE, backoff=0)


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a hung upstream."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TRANSPORTS = pytest.mark.parametrize("transport", ["pooled", "requests"])


@TRANSPORTS
def test_a_hung_upstream_times_out_within_the_read_timeout(silent_server, transport):
    client = ServiceClient("products", silent_server, read_timeout=0.3, transport=transport)

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        client.post("/internal/reservations/", json={}, idempotent=True)

    assert time.monotonic() - started < 1.0


@TRANSPORTS
@pytest.mark.parametrize(("threshold", "state"), [(3, "open"), (4, "closed")])
def test_a_refused_connection_is_a_bad_gateway_after_retries(transport, threshold, state):
    client = ServiceClient(
        "products",
        f"http://127.0.0.1:{closed_port()}",
        backoff=0,
        transport=transport,
        breaker=CircuitBreaker(failure_threshold=threshold),
    )

    with pytest.raises(BadGateway):
        client.get("/api/products/")

    assert client.breaker.state == state  # three failures: the first try and two retries


@responses.activate
def test_idempotent_calls_are_retried_on_502_503_504(client):
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", status=502)
    responses.get(f"{BASE}/x", json={"ok": True})

    response = client.get("/x")

    assert response.status == 200
    assert response.json() == {"ok": True}
    assert len(responses.calls) == 3


@responses.activate
def test_non_idempotent_calls_are_never_retried(client):
    responses.post(f"{BASE}/orders", status=503)

    with pytest.raises(BadGateway):
        client.post("/orders", json={})

    assert len(responses.calls) == 1


@responses.activate
def test_a_post_declared_idempotent_is_retried(client):
    responses.post(f"{BASE}/internal/reservations/", status=503)
    responses.post(f"{BASE}/internal/reservations/", json={"status": "reserved"}, status=201)

    response = client.post("/internal/reservations/", json={}, idempotent=True)

    assert response.status == 201


@responses.activate
def test_4xx_is_returned_to_the_caller(client):
    responses.post(f"{BASE}/internal/reservations/", json={"error": {}}, status=409)

    assert client.post("/internal/reservations/", json={}).status == 409


@responses.activate
@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b"\xff\xfe{}"])
def test_an_answer_that_is_not_json_is_a_bad_gateway(client, body):
    responses.get(f"{BASE}/x", body=body, status=200)

    response = client.get("/x")

    with pytest.raises(BadGateway, match="not JSON"):
        response.json()


@responses.activate
def test_an_answer_nested_absurdly_deep_is_a_bad_gateway(client):
    responses.get(f"{BASE}/x", body=b"[" * 100_000 + b"]" * 100_000, status=200)

    with pytest.raises(BadGateway, match="not JSON"):
        client.get("/x").json()


@responses.activate
def test_the_request_id_is_propagated(client):
    responses.get(f"{BASE}/x", json={})
    token = request_id_var.set("trace-client-1")
    try:
        client.get("/x")
    finally:
        request_id_var.reset(token)

    assert responses.calls[0].request.headers["X-Request-ID"] == "trace-client-1"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fail(breaker):
    with breaker.attempt() as attempt:
        attempt.failed()


def succeed(breaker):
    with breaker.attempt() as attempt:
        attempt.succeeded()


def test_breaker_opens_after_repeated_failures_then_probes_then_closes():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=5, clock=clock)
    for _ in range(3):
        fail(breaker)

    assert breaker.state == "open"
    with pytest.raises(UpstreamUnavailable) as raised:
        succeed(breaker)
    assert raised.value.headers["Retry-After"] == "5"

    clock.now = 5
    assert breaker.state == "half_open"
    with breaker.attempt() as probe:  # the one probe goes through
        with pytest.raises(UpstreamUnavailable):
            succeed(breaker)  # others wait for its verdict
        probe.succeeded()

    assert breaker.state == "closed"
    succeed(breaker)


def test_a_failed_probe_opens_the_breaker_again():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    fail(breaker)
    clock.now = 6
    fail(breaker)

    assert breaker.state == "open"
    with pytest.raises(UpstreamUnavailable):
        succeed(breaker)


@pytest.mark.parametrize("ending", ["no verdict", "an exception"])
def test_a_probe_that_ends_without_a_verdict_lets_the_next_call_probe(ending):
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    fail(breaker)
    clock.now = 6

    if ending == "no verdict":
        with breaker.attempt():
            pass
    else:
        with pytest.raises(RuntimeError), breaker.attempt():
            raise RuntimeError("the caller failed before the upstream said anything")

    assert breaker.state == "half_open"
    succeed(breaker)  # would be refused if the lost probe still held its slot
    assert breaker.state == "closed"


def test_a_timeout_while_the_upstream_answers_others_is_not_a_failure():
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5)

    with breaker.attempt() as slow:
        succeed(breaker)  # another call finished while this one waited
        slow.timed_out()

    assert breaker.state == "closed"
    with breaker.attempt() as hung:
        hung.timed_out()
    assert breaker.state == "open"


@responses.activate
def test_an_open_breaker_answers_at_once_without_calling():
    client = ServiceClient("products", BASE, retries=0, breaker=CircuitBreaker(failure_threshold=2))
    responses.get(f"{BASE}/x", status=500)
    for _ in range(2):
        with pytest.raises(BadGateway):
            client.get("/x")

    with pytest.raises(UpstreamUnavailable):
        client.get("/x")

    assert len(responses.calls) == 2


USERS = "http://users.test"


def token_answer(token, expires_in=300):
    return {"access": token, "expires_in": expires_in, "token_type": "Bearer"}


@responses.activate
def test_service_tokens_are_cached_until_shortly_before_expiry():
    clock = FakeClock()
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("t1"))
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("t2"))
    provider = ServiceTokenProvider(
        ServiceClient("users", USERS), client_id="orders", client_secret="s", clock=clock
    )

    assert provider.token() == "t1"
    clock.now = 200
    assert provider.token() == "t1"
    clock.now = 271  # 300 s lifetime, refreshed 30 s before the end
    assert provider.token() == "t2"
    assert responses.calls[0].request.body == b'{"client_id": "orders", "client_secret": "s"}'


@responses.activate
def test_a_401_makes_the_client_fetch_a_new_token_once():
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("stale"))
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("fresh"))
    responses.post(f"{BASE}/internal/reservations/", status=401)
    responses.post(f"{BASE}/internal/reservations/", status=201, json={})
    provider = ServiceTokenProvider(ServiceClient("users", USERS), client_id="o", client_secret="s")
    client = ServiceClient("products", BASE, auth=provider, retries=0)

    response = client.post("/internal/reservations/", json={})

    assert response.status == 201
    calls = [c for c in responses.calls if c.request.url.startswith(BASE)]
    assert [c.request.headers["Authorization"] for c in calls] == [
        "Bearer stale",
        "Bearer fresh",
    ]


@responses.activate
def test_a_second_401_is_returned_not_looped():
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("t"))
    responses.post(f"{BASE}/x", status=401)
    provider = ServiceTokenProvider(ServiceClient("users", USERS), client_id="o", client_secret="s")
    client = ServiceClient("products", BASE, auth=provider)

    assert client.post("/x", json={}).status == 401
    assert len([c for c in responses.calls if c.request.url.startswith(BASE)]) == 2


@responses.activate
def test_a_token_renewal_that_fails_never_leaves_the_breaker_open():
    clock = FakeClock()
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("t1", expires_in=60))
    responses.post(f"{USERS}/internal/auth/token/", body=requests.ConnectTimeout("users hung"))
    responses.post(f"{USERS}/internal/auth/token/", json=token_answer("t2"))
    responses.get(f"{BASE}/x", status=502)
    responses.get(f"{BASE}/x", json={"ok": 1})
    provider = ServiceTokenProvider(
        ServiceClient("users", USERS, retries=0), client_id="o", client_secret="s", clock=clock
    )
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    client = ServiceClient("products", BASE, retries=0, auth=provider, breaker=breaker)
    with pytest.raises(BadGateway):
        client.get("/x")  # products fails: the breaker opens
    clock.now = 60  # the token must be renewed, and the breaker lets a probe through

    with pytest.raises(UpstreamTimeout):
        client.get("/x")  # the renewal times out: users is hung

    assert client.get("/x").json() == {"ok": 1}  # users is back: the next call goes through
    assert breaker.state == "closed"


@responses.activate
def test_refused_credentials_are_a_bad_gateway():
    responses.post(f"{USERS}/internal/auth/token/", status=401, json={})
    provider = ServiceTokenProvider(
        ServiceClient("users", USERS), client_id="o", client_secret="bad"
    )

    with pytest.raises(BadGateway, match="refused"):
        provider.token()


class Scripted(BaseHTTPRequestHandler):
    """A real HTTP server answering from a script: one (status, body, headers) per request."""

    protocol_version = "HTTP/1.1"
    script: list[tuple[int, bytes, dict[str, str]]] = []
    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": self.rfile.read(length),
            }
        )
        status, body, headers = self.script.pop(0) if self.script else (200, b"{}", {})
        self.send_response(status)
        chunked = headers.get("Transfer-Encoding") == "chunked"
        for name, value in headers.items():
            self.send_header(name, value)
        if not chunked:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if chunked:
            for piece in (body[:3], body[3:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture
def scripted():
    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = False

    Scripted.script, Scripted.seen = [], []
    server = Server(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Scripted
    server.shutdown()
    server.server_close()


@TRANSPORTS
def test_a_real_exchange_sends_json_and_reads_json(scripted, transport):
    url, handler = scripted
    handler.script = [(201, b'{"status": "reserved"}', {"Content-Type": "application/json"})]
    token = request_id_var.set("trace-real-1")
    try:
        response = ServiceClient("products", url, transport=transport).post(
            "/internal/reservations/", json={"reference": "r1"}, idempotent=True
        )
    finally:
        request_id_var.reset(token)

    assert (response.status, response.json()) == (201, {"status": "reserved"})
    seen = handler.seen[0]
    assert seen["path"] == "/internal/reservations/"
    assert seen["body"] == b'{"reference": "r1"}'
    assert seen["headers"]["X-Request-ID"] == "trace-real-1"
    assert seen["headers"]["Content-Type"] == "application/json"


@TRANSPORTS
def test_query_parameters_and_a_base_path(scripted, transport):
    url, handler = scripted

    ServiceClient("users", f"{url}/api/auth", transport=transport).get(
        "/jwks.json", params={"a": "1 2"}
    )

    assert handler.seen[0]["path"] == "/api/auth/jwks.json?a=1+2"


@TRANSPORTS
def test_retries_against_a_real_server_and_keeps_the_connection(scripted, transport):
    url, handler = scripted
    handler.script = [(503, b"{}", {}), (200, b'{"ok": 1}', {})]
    client = ServiceClient("products", url, backoff=0, transport=transport)

    assert client.get("/x").json() == {"ok": 1}
    assert client.get("/y").status == 200
    assert [seen["path"] for seen in handler.seen] == ["/x", "/x", "/y"]


@TRANSPORTS
def test_chunked_and_closing_answers_are_read_whole(scripted, transport):
    url, handler = scripted
    handler.script = [
        (200, b'{"chunked": true}', {"Transfer-Encoding": "chunked"}),
        (200, b'{"closed": true}', {"Connection": "close"}),
        (200, b'{"again": true}', {}),
    ]
    client = ServiceClient("products", url, transport=transport)

    assert client.get("/a").json() == {"chunked": True}
    assert client.get("/b").json() == {"closed": True}
    assert client.get("/c").json() == {"again": True}
