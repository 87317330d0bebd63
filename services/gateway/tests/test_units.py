"""The pieces of the hot path on their own: path checks, header filters, rate windows."""

from __future__ import annotations

import pytest
from django.core.cache.backends.locmem import LocMemCache
from prometheus_client import REGISTRY
from rest_framework.throttling import SimpleRateThrottle

from proxy import metrics
from proxy.headers import UnsafeHeader, request_headers, response_headers
from proxy.limits import Bulkhead, Rate, RateLimiter
from proxy.paths import checked_target
from souk_common.breaker import BreakerState


@pytest.mark.parametrize(
    "path", ["/api/x/../y", "/api/x/./y", "/api//x", "/api/x\\y", "/api/x/\x00", "api/x"]
)
def test_decoded_paths_that_could_confuse_are_refused(path):
    assert checked_target(path, b"/api/x/", b"") is None


@pytest.mark.parametrize(
    "raw", [b"/api%2Fx/", b"/api/%2e/", b"/api/%252e/", b"/api/%5c/", b"/api/%00/", b"api/x/"]
)
def test_encoded_slashes_dots_and_percents_are_refused(raw):
    assert checked_target("/api/x/", raw, b"") is None


def test_a_clean_path_is_forwarded_as_received():
    target = checked_target("/api/products/ä/", b"/api/products/%C3%A4/", b"q=1")

    assert target is not None
    assert target.path == "/api/products/ä/"
    assert target.upstream_target == "/api/products/%C3%A4/?q=1"


def test_request_headers_drop_hop_by_hop_named_and_client_identity_headers():
    headers = request_headers(
        [
            (b"connection", b"keep-alive, X-Secret"),
            (b"x-secret", b"1"),
            (b"te", b"trailers"),
            (b"expect", b"100-continue"),
            (b"x-user-id", b"7"),
            (b"x-internal-role", b"admin"),
            (b"x-souk-proxy-secret", b"guess"),
            (b"x-forwarded-for", b"6.6.6.6"),
            (b"authorization", b"Bearer t"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"accept", b"text/plain"),
            (b"idempotency-key", b""),
        ]
    )

    assert headers == {
        "authorization": "Bearer t",
        "content-type": "application/json",
        "accept": "application/json, text/plain",
        "idempotency-key": "",
    }


@pytest.mark.parametrize("name", [b"trailer", b"proxy-connection"])
def test_hop_by_hop_headers_wsgiref_would_forward_are_dropped(name):
    # wsgiref.util.is_hop_by_hop knows "trailers" (no such header) and not these two.
    assert request_headers([(name, b"x-checksum"), (b"accept", b"*/*")]) == {"accept": "*/*"}
    assert response_headers([(name.decode().title(), "x-checksum")]) == []


def test_a_header_value_with_a_line_break_is_refused():
    with pytest.raises(UnsafeHeader):
        request_headers([(b"x-evil", b"a\r\nInjected: 1")])


def test_response_headers_drop_hop_by_hop_and_those_named_in_connection():
    kept = response_headers(
        [
            ("Content-Type", "application/json"),
            ("Connection", "X-Private"),
            ("X-Private", "1"),
            ("Transfer-Encoding", "chunked"),
            ("X-Request-ID", "from-upstream"),
            ("Server", "granian"),
            ("Date", "Mon, 30 Nov 2026 00:00:00 GMT"),
        ]
    )

    assert kept == [(b"Content-Type", b"application/json")]


def test_rates_parse():
    assert Rate.parse("20/min") == Rate(20, 60)
    assert Rate.parse("5/s") == Rate(5, 1)
    with pytest.raises(ValueError, match="rate"):
        Rate.parse("5/fortnight")


@pytest.mark.parametrize("text", ["1/s", "2/second", "3/m", "4/minute", "5/hour", "6/day", "7/d"])
def test_rates_mean_what_drf_reads_them_as(text):
    # The users service's throttles are DRF's: one notation for every rate in the stack.
    limit, window = SimpleRateThrottle.parse_rate(None, text)

    assert Rate.parse(text) == Rate(limit, window)


@pytest.mark.parametrize("text", ["5/month", "5/mango", "5/ms"])
def test_a_unit_drf_would_read_by_its_first_letter_is_refused(text):
    # DRF's parse_rate takes "5/month" for five a minute; a typo must not loosen a limit.
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)


def test_rate_limiter_counts_per_window_and_says_when_to_retry():
    clock = [1000.0]
    limiter = RateLimiter(
        LocMemCache("rate-test", {}), {"default": {"address": "2/min"}}, clock=lambda: clock[0]
    )
    ident = {"address": "203.0.113.1"}

    assert limiter.retry_after("default", ident) is None
    assert limiter.retry_after("default", ident) is None
    assert limiter.retry_after("default", ident) == 20  # the window ends at 1020
    assert limiter.retry_after("default", {"address": "203.0.113.2"}) is None
    clock[0] = 1021.0
    assert limiter.retry_after("default", ident) is None


def test_bulkhead_refuses_beyond_its_size():
    bulkhead = Bulkhead(2)

    assert bulkhead.try_enter()
    assert bulkhead.try_enter()
    assert not bulkhead.try_enter()
    bulkhead.leave()
    assert bulkhead.try_enter()


def test_the_breaker_gauge_follows_every_change_of_state():
    def shown() -> float | None:
        return REGISTRY.get_sample_value("souk_gateway_breaker_open", {"upstream": "unit"})

    seen = []
    for state in [BreakerState.CLOSED, BreakerState.OPEN, BreakerState.OPEN,
                  BreakerState.HALF_OPEN, BreakerState.CLOSED, BreakerState.CLOSED,
                  BreakerState.OPEN]:  # fmt: skip
        metrics.breaker_state("unit", state)
        seen.append(shown())

    assert seen == [0, 1, 1, 1, 0, 0, 1]
