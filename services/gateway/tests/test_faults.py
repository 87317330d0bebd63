"""Fault isolation: timeouts, refused upstreams, the breaker, the bulkhead, a hung upstream."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.processes import Upstream, free_port


@pytest.fixture
def dead_products(start_gateway):
    """A gateway whose products upstream has nothing listening."""
    return start_gateway(
        PRODUCTS_URL=f"http://127.0.0.1:{free_port()}",
        GATEWAY_BREAKER_FAILURES="3",
        GATEWAY_BREAKER_RESET_SECONDS="2",
        workers=1,
    )


def test_a_refused_connection_is_a_502(dead_products, http):
    response = http.get(f"{dead_products.url}/api/products/", timeout=10)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


def test_no_answer_within_the_route_timeout_is_a_504_on_time(gateway, http, products):
    # /api/products/ allows 5 s; this upstream answers after 8.
    started = time.monotonic()
    response = http.get(f"{gateway.url}/api/products/slow/8", timeout=30)
    elapsed = time.monotonic() - started

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert elapsed < 5 + 1


def test_a_non_idempotent_request_is_never_sent_twice(gateway, http, products):
    # The upstream reads the request and closes the connection without an answer: it
    # may have acted on it, so the gateway must not send it again.
    response = http.post(f"{gateway.url}/api/products/drop/", json={"n": 1}, timeout=10)

    assert response.status_code == 502
    assert [r["path"] for r in products.received()] == ["/api/products/drop/"]


def test_the_breaker_opens_half_opens_and_closes(start_gateway, http):
    flaky = Upstream("products")
    gateway = start_gateway(
        PRODUCTS_URL=flaky.url,
        GATEWAY_BREAKER_FAILURES="3",
        GATEWAY_BREAKER_RESET_SECONDS="2",
        workers=1,
    )
    try:
        assert http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 200
        flaky.stop()  # the upstream goes away

        failures = [http.get(f"{gateway.url}/api/products/", timeout=10) for _ in range(3)]
        assert [r.status_code for r in failures] == [502, 502, 502]

        started = time.monotonic()
        open_answer = http.get(f"{gateway.url}/api/products/", timeout=10)
        assert open_answer.status_code == 503
        assert open_answer.json()["error"]["code"] == "upstream_unavailable"
        assert int(open_answer.headers["Retry-After"]) >= 1
        assert time.monotonic() - started < 0.5  # answered at once, no upstream call

        time.sleep(2.2)  # half-open: one probe goes through; the upstream is still down
        assert http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 502
        assert http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 503

        flaky.start()  # it comes back
        time.sleep(2.2)
        assert http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 200
        assert http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 200
    finally:
        flaky.stop()


def test_a_full_bulkhead_answers_503_at_once(start_gateway, http, products):
    gateway = start_gateway(GATEWAY_BULKHEAD_SIZE="2", workers=1)
    slow = [
        threading.Thread(
            target=lambda: requests.get(f"{gateway.url}/api/products/slow/2", timeout=10)
        )
        for _ in range(2)
    ]
    for thread in slow:
        thread.start()
    deadline = time.monotonic() + 10
    while sum("/slow/" in r["path"] for r in products.received()) < 2:  # both are in flight
        assert time.monotonic() < deadline, "the slow calls never reached the upstream"
        time.sleep(0.05)

    started = time.monotonic()
    response = http.get(f"{gateway.url}/api/products/", timeout=10)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert time.monotonic() - started < 0.5
    assert http.get(f"{gateway.url}/api/users/me/", timeout=10).status_code == 200
    for thread in slow:
        thread.join()


def test_a_hung_upstream_leaves_the_other_routes_answering(start_gateway, http):
    hung = Upstream("products")
    gateway = start_gateway(PRODUCTS_URL=hung.url, workers=1)
    try:
        baseline = [_timed(http, f"{gateway.url}/api/users/me/") for _ in range(20)]
        hung.pause()  # SIGSTOP: connections are accepted, nothing is answered
        stuck = [
            threading.Thread(
                target=lambda: requests.get(f"{gateway.url}/api/products/", timeout=30)
            )
            for _ in range(80)  # more than the bulkhead (40) lets through
        ]
        for thread in stuck:
            thread.start()
        time.sleep(0.5)

        during = [_timed(http, f"{gateway.url}/api/users/me/") for _ in range(20)]

        assert all(status == 200 for status, _ in during)
        baseline_p50 = sorted(t for _, t in baseline)[10]
        during_p50 = sorted(t for _, t in during)[10]
        # Unaffected: nowhere near the 5 s the hung route waits (generous for a busy CI).
        assert during_p50 < baseline_p50 + 0.25, (baseline_p50, during_p50)
        assert max(t for _, t in during) < 2.0
    finally:
        hung.resume()
        for thread in stuck:
            thread.join()
        hung.stop()


def _timed(http: requests.Session, url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = http.get(url, timeout=10).status_code
    return status, time.monotonic() - started


def health_once_it_is(http: requests.Session, url: str, status: int) -> requests.Response:
    """``GET /health`` until it answers ``status`` (it reflects checks made every 2 s)."""
    deadline = time.monotonic() + 8
    while (response := http.get(f"{url}/health", timeout=10)).status_code != status:
        assert time.monotonic() < deadline, f"/health never answered {status}"
        time.sleep(0.2)
    return response


def test_health_is_degraded_while_an_upstream_is_not_ready_and_recovers(gateway, http, upstreams):
    upstreams["products"].set_ready(503)
    try:
        degraded = health_once_it_is(http, gateway.url, 503)
    finally:
        upstreams["products"].set_ready(200)
    recovered = health_once_it_is(http, gateway.url, 200)

    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["services"]["products"]["status"] == "unavailable"
    assert degraded.json()["services"]["users"]["status"] == "ok"
    assert recovered.json()["status"] == "ok"
    assert all("latency_ms" in s for s in recovered.json()["services"].values())


def test_health_answers_at_once_while_upstreams_hang(gateway, http, upstreams):
    for name in ("users", "orders"):
        upstreams[name].pause()
    try:
        response = health_once_it_is(http, gateway.url, 503)
        _, elapsed = _timed(http, f"{gateway.url}/health")
    finally:
        for name in ("users", "orders"):
            upstreams[name].resume()

    assert response.json()["services"]["users"]["status"] == "unavailable"
    assert response.json()["services"]["products"]["status"] == "ok"
    assert elapsed < 0.5  # from the last checks, not waiting on the hung ones
