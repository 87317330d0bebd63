"""ServiceClient: timeouts, typed failures, retries only where safe, breaker, tokens.

Upstreams are real HTTP servers (souk_common.testing.FakeService): the client is
tested through the one transport it has, the one production uses.
"""

import json
import socket
import threading
import time

import pytest

from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient, ServiceTokenProvider
from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from souk_common.logging import request_id_var, traceparent_var
from souk_common.testing import Hung


@pytest.fixture
def products(fake_service):
    return fake_service()


@pytest.fixture
def client(products):
    return ServiceClient("products", products.url, backoff=0)


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


def test_a_hung_upstream_times_out_within_the_read_timeout(silent_server):
    client = ServiceClient("products", silent_server, read_timeout=0.3)

    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        client.post("/internal/reservations/", json={}, idempotent=True)

    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("threshold", "state"), [(3, "open"), (4, "closed")])
def test_a_refused_connection_is_a_bad_gateway_after_retries(threshold, state):
    client = ServiceClient(
        "products",
        f"http://127.0.0.1:{closed_port()}",
        backoff=0,
        breaker=CircuitBreaker(failure_threshold=threshold),
    )

    with pytest.raises(BadGateway):
        client.get("/api/products/")

    assert client.breaker.state == state  # three failures: the first try and two retries


def test_idempotent_calls_are_retried_on_502_503_504(client, products):
    products.add("GET", "/x", status=503)
    products.add("GET", "/x", status=502)
    products.add("GET", "/x", json={"ok": True})

    response = client.get("/x")

    assert response.status == 200
    assert response.json() == {"ok": True}
    assert len(products.calls) == 3


def test_non_idempotent_calls_are_never_retried(client, products):
    products.add("POST", "/orders", status=503)

    with pytest.raises(BadGateway):
        client.post("/orders", json={})

    assert len(products.calls) == 1


def test_a_post_declared_idempotent_is_retried(client, products):
    products.add("POST", "/internal/reservations/", status=503)
    products.add("POST", "/internal/reservations/", json={"status": "reserved"}, status=201)

    response = client.post("/internal/reservations/", json={}, idempotent=True)

    assert response.status == 201


def test_4xx_is_returned_to_the_caller(client, products):
    products.add("POST", "/internal/reservations/", json={"error": {}}, status=409)

    assert client.post("/internal/reservations/", json={}).status == 409


@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b"\xff\xfe{}"])
def test_an_answer_that_is_not_json_is_a_bad_gateway(client, products, body):
    products.add("GET", "/x", body=body)

    response = client.get("/x")

    with pytest.raises(BadGateway, match="not JSON"):
        response.json()


def test_an_answer_nested_absurdly_deep_is_a_bad_gateway(client, products):
    products.add("GET", "/x", body=b"[" * 100_000 + b"]" * 100_000)

    with pytest.raises(BadGateway, match="not JSON"):
        client.get("/x").json()


def test_a_real_exchange_sends_json_with_the_request_id_and_reads_json(client, products):
    products.add("POST", "/internal/reservations/", json={"status": "reserved"}, status=201)
    token = request_id_var.set("trace-real-1")
    try:
        response = client.post("/internal/reservations/", json={"reference": "r1"}, idempotent=True)
    finally:
        request_id_var.reset(token)

    assert (response.status, response.json()) == (201, {"status": "reserved"})
    seen = products.calls[0]
    assert seen.body == b'{"reference": "r1"}'
    assert seen.headers["X-Request-ID"] == "trace-real-1"
    assert seen.headers["Content-Type"] == "application/json"


def test_headers_of_the_call_are_sent_and_cannot_replace_the_request_id(client, products):
    products.add("GET", "/api/cart/", json={})
    token = request_id_var.set("trace-real-2")
    try:
        client.get("/api/cart/", headers={"X-Cart-ID": "c1", "X-Request-ID": "forged"})
    finally:
        request_id_var.reset(token)

    seen = products.calls[0].headers
    assert (seen["X-Cart-ID"], seen["X-Request-ID"]) == ("c1", "trace-real-2")


def test_a_call_carries_the_trace_of_its_request(client, products):
    products.add("GET", "/api/products/", json={})
    token = traceparent_var.set("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    try:
        client.get("/api/products/")
    finally:
        traceparent_var.reset(token)
    client.get("/api/products/")

    traced, untraced = (call.headers for call in products.calls)
    assert traced["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert "traceparent" not in untraced


def test_query_parameters_and_a_base_path(products):
    products.add("GET", "/api/auth/jwks.json", json={})

    ServiceClient("users", f"{products.url}/api/auth").get("/jwks.json", params={"a": "1 2"})

    assert products.calls[0].url == f"{products.url}/api/auth/jwks.json?a=1+2"


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
    assert raised.value.headers()["Retry-After"] == "5"

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


@pytest.fixture
def users(fake_service):
    return fake_service()


def test_an_open_breaker_answers_at_once_without_calling(products):
    client = ServiceClient(
        "products", products.url, retries=0, breaker=CircuitBreaker(failure_threshold=2)
    )
    products.add("GET", "/x", status=500)
    for _ in range(2):
        with pytest.raises(BadGateway):
            client.get("/x")

    with pytest.raises(UpstreamUnavailable):
        client.get("/x")

    assert len(products.calls) == 2


def token_answer(token, expires_in=300):
    return {"access": token, "expires_in": expires_in, "token_type": "Bearer"}


def test_service_tokens_are_cached_until_shortly_before_expiry(users):
    clock = FakeClock()
    users.add("POST", "/internal/auth/token/", json=token_answer("t1"))
    users.add("POST", "/internal/auth/token/", json=token_answer("t2"))
    provider = ServiceTokenProvider(
        ServiceClient("users", users.url), client_id="orders", client_secret="s", clock=clock
    )

    assert provider.token() == "t1"
    clock.now = 200
    assert provider.token() == "t1"
    clock.now = 271  # 300 s lifetime, refreshed 30 s before the end
    assert provider.token() == "t2"
    assert json.loads(users.calls[0].body) == {"client_id": "orders", "client_secret": "s"}


def test_a_401_makes_the_client_fetch_a_new_token_once(users, products):
    users.add("POST", "/internal/auth/token/", json=token_answer("stale"))
    users.add("POST", "/internal/auth/token/", json=token_answer("fresh"))
    products.add("POST", "/internal/reservations/", status=401)
    products.add("POST", "/internal/reservations/", status=201, json={})
    provider = ServiceTokenProvider(
        ServiceClient("users", users.url), client_id="o", client_secret="s"
    )
    client = ServiceClient("products", products.url, auth=provider, retries=0)

    response = client.post("/internal/reservations/", json={})

    assert response.status == 201
    assert [call.headers["Authorization"] for call in products.calls] == [
        "Bearer stale",
        "Bearer fresh",
    ]


def test_a_second_401_is_returned_not_looped(users, products):
    users.add("POST", "/internal/auth/token/", json=token_answer("t"))
    products.add("POST", "/x", status=401)
    provider = ServiceTokenProvider(
        ServiceClient("users", users.url), client_id="o", client_secret="s"
    )
    client = ServiceClient("products", products.url, auth=provider)

    assert client.post("/x", json={}).status == 401
    assert len(products.calls) == 2


def test_a_token_renewal_that_fails_never_leaves_the_breaker_open(users, products):
    clock = FakeClock()
    users.add("POST", "/internal/auth/token/", json=token_answer("t1", expires_in=60))

    def hung(request):
        raise Hung(seconds=1)

    users.add_callback("POST", "/internal/auth/token/", hung)
    users.add("POST", "/internal/auth/token/", json=token_answer("t2"))
    products.add("GET", "/x", status=502)
    products.add("GET", "/x", json={"ok": 1})
    provider = ServiceTokenProvider(
        ServiceClient("users", users.url, retries=0, read_timeout=0.3),
        client_id="o",
        client_secret="s",
        clock=clock,
    )
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    client = ServiceClient("products", products.url, retries=0, auth=provider, breaker=breaker)
    with pytest.raises(BadGateway):
        client.get("/x")  # products fails: the breaker opens
    clock.now = 60  # the token must be renewed, and the breaker lets a probe through

    with pytest.raises(UpstreamTimeout):
        client.get("/x")  # the renewal times out: users is hung

    assert client.get("/x").json() == {"ok": 1}  # users is back: the next call goes through
    assert breaker.state == "closed"


def test_refused_credentials_are_a_bad_gateway(users):
    users.add("POST", "/internal/auth/token/", status=401, json={})
    provider = ServiceTokenProvider(
        ServiceClient("users", users.url), client_id="o", client_secret="bad"
    )

    with pytest.raises(BadGateway, match="refused"):
        provider.token()
